app_name = "hotissues"

urlpatterns = []
