"""The dispatch slip (交办单) of a demand, as a Word document."""

from django.http import Http404, HttpResponse
from django.utils.http import content_disposition_header

from qinqing.demands.slip import dispatch_slip

from .common import staff_required
from .detail import get_demand


@staff_required
def slip(request, number):
    demand = get_demand(request.user, number)
    if demand.lead_unit_id is None:
        raise Http404("该诉求尚未交办，没有交办单。")
    response = HttpResponse(
        dispatch_slip(demand, request.user),
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    response["Content-Disposition"] = content_disposition_header(True, f"{demand.number}交办单.docx")
    return response
