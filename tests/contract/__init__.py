"""openapi.yaml is the contract: a valid OpenAPI 3.1 document, listing exactly the routes the
app serves, whose schemas describe the requests the app accepts and the responses it sends."""
