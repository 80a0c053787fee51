app_name = "cooperation"

urlpatterns = []
