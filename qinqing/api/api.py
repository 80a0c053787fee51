from ninja import NinjaAPI

api = NinjaAPI(title="亲清 API", version="1", urls_namespace="api")
