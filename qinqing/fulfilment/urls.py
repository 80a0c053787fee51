app_name = "fulfilment"

urlpatterns = []
