// 常用语 (qinqing.handling): a <select data-canned-target="FIELD"> puts the chosen reply, placeholders already
// filled by the server, into its form's FIELD textarea: into an empty one as is, after the text already there
// otherwise. A file of its own: the Content-Security-Policy allows no inline script.
document.addEventListener("change", function (event) {
  var select = event.target;
  if (!select.matches || !select.matches("select[data-canned-target]") || !select.form || !select.value) return;
  var field = select.form.querySelector("textarea[name='" + select.getAttribute("data-canned-target") + "']");
  if (!field) return;
  field.value = field.value.trim() ? field.value.replace(/\s+$/, "") + "\n" + select.value : select.value;
  field.focus();
  select.value = "";
});
