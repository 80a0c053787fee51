app_name = "handoffs"

urlpatterns = []
