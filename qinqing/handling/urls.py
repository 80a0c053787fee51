app_name = "handling"

urlpatterns = []
