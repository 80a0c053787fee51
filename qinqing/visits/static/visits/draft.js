// Keeps the visit form in localStorage while it is filled in, so that a lost connection or a closed
// tab on a phone does not lose a visit. The draft is restored on the next visit to the form and
// dropped once the server has saved the visit (the detail page carries ?saved=1).
(function () {
  "use strict";
  var form = document.querySelector("form[data-draft-key]");
  if (!form || !window.localStorage) return;
  var key = form.getAttribute("data-draft-key");
  var status = form.querySelector(".draft-status");
  var skip = { csrfmiddlewaretoken: true, enterprise: true };

  function fields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !skip[el.name] && el.type !== "submit" && el.type !== "button";
    });
  }
  function save() {
    var data = {};
    fields().forEach(function (el) {
      if (el.type === "radio") { if (el.checked) data[el.name] = el.value; }
      else data[el.name] = el.value;
    });
    try {
      localStorage.setItem(key, JSON.stringify({ at: new Date().toISOString(), data: data }));
      if (status) status.textContent = "草稿已保存在本机 " + new Date().toLocaleTimeString("zh-CN");
    } catch (e) { /* storage full or disabled: the form still works */ }
  }
  function restore() {
    var raw = localStorage.getItem(key);
    if (!raw) return;
    var draft;
    try { draft = JSON.parse(raw); } catch (e) { return; }
    var bound = form.querySelector(".form-error, .error");
    if (bound) return; // the server sent back what was posted; it is newer than the draft
    fields().forEach(function (el) {
      if (!(el.name in draft.data)) return;
      if (el.type === "radio") el.checked = draft.data[el.name] === el.value;
      else el.value = draft.data[el.name];
    });
    if (status) status.textContent = "已恢复本机草稿（" + new Date(draft.at).toLocaleString("zh-CN") + "）";
  }
  restore();
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  var clear = form.querySelector(".draft-clear");
  if (clear) clear.addEventListener("click", function () {
    localStorage.removeItem(key);
    form.reset();
    if (status) status.textContent = "草稿已清空";
  });
  form.addEventListener("submit", function () { save(); });
})();
(function () {
  // On the saved visit's page: the server has it, the draft can go.
  var saved = document.querySelector("[data-clear-draft]");
  if (saved && window.localStorage) localStorage.removeItem(saved.getAttribute("data-clear-draft"));
})();
