"""One router per resource; service.api.main includes them."""
