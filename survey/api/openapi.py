"""The OpenAPI 3 description of the JSON API."""

from __future__ import annotations


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def spec() -> dict:
    """Return the OpenAPI document for /api/v1."""
    slug = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Engagement pyramid survey API",
            "version": "1.0.0",
            "description": "Create surveys, describe them and submit responses. Admin calls take "
            "'Authorization: Bearer <token>' (flask --app app tokens create --role hr).",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string"},
                        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                },
                "DepartmentIn": {
                    "type": "object",
                    "required": ["code", "name"],
                    "properties": {
                        "code": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"},
                        "name": {"type": "string", "minLength": 1, "maxLength": 120},
                        "headcount": {"type": "integer", "minimum": 0, "nullable": True},
                    },
                },
                "SurveyIn": {
                    "type": "object",
                    "required": ["title", "departments"],
                    "additionalProperties": False,
                    "properties": {
                        "title": {"type": "string", "minLength": 1, "maxLength": 200},
                        "slug": {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"},
                        "language": {"type": "string", "enum": ["nb", "nn", "en"], "default": "nb"},
                        "departments": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"$ref": "#/components/schemas/DepartmentIn"},
                        },
                        "min_group_size": {"type": "integer", "minimum": 3, "default": 5},
                        "comment_min_group_size": {"type": "integer", "minimum": 3, "default": 10},
                        "collection": {"type": "string", "enum": ["open", "invitations"], "default": "open"},
                        "previous": {"type": "string", "description": "slug of the previous round of the series"},
                        "small_groups": {"type": "string", "enum": ["merge", "omit"], "default": "merge"},
                    },
                },
                "Survey": {
                    "type": "object",
                    "properties": {
                        "slug": {"type": "string"},
                        "title": {"type": "string"},
                        "language": {"type": "string", "enum": ["nb", "nn", "en"]},
                        "status": {"type": "string", "enum": ["draft", "open", "closed"]},
                        "collection": {"type": "string", "enum": ["open", "invitations"]},
                        "min_group_size": {"type": "integer"},
                        "comment_min_group_size": {"type": "integer"},
                        "departments": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
                            },
                        },
                        "instrument": {
                            "type": "object",
                            "properties": {
                                "reach_threshold": {"type": "number"},
                                "levels": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
                                    },
                                },
                                "items": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "id": {"type": "string"},
                                            "level": {"type": "string"},
                                            "text": {"type": "string"},
                                            "reverse": {"type": "boolean"},
                                        },
                                    },
                                },
                                "enps": {"type": "boolean"},
                                "comment": {"type": "boolean"},
                            },
                        },
                    },
                },
                "Dimension": {
                    "type": "object",
                    "required": ["id"],
                    "description": "A level's figures; a cell below the threshold has only id and suppressed.",
                    "properties": {
                        "id": {"type": "string"},
                        "suppressed": {"type": "boolean"},
                        "n": {"type": "integer"},
                        "mean": {"type": "number"},
                        "score": {"type": "number"},
                        "ci_low": {"type": "number"},
                        "ci_high": {"type": "number"},
                        "favourable": {"type": "number"},
                        "alpha": {"type": "number"},
                        "alpha_n": {"type": "integer"},
                        "diff": {"type": "number", "description": "department mean minus the rest's"},
                        "p": {"type": "number", "description": "Welch's t-test"},
                        "p_adj": {"type": "number", "description": "Benjamini-Hochberg adjusted"},
                        "d": {"type": "number", "description": "Cohen's d, pooled sd"},
                        "significant": {"type": "boolean"},
                    },
                },
                "Results": {
                    "type": "object",
                    "required": ["suppressed"],
                    "description": "A hidden group carries suppressed: true and no figures.",
                    "properties": {
                        "slug": {"type": "string"},
                        "status": {"type": "string"},
                        "min_group_size": {"type": "integer"},
                        "suppressed": {"type": "boolean"},
                        "reason": {"type": "string", "enum": ["too_few", "complementary"]},
                        "n": {"type": "integer"},
                        "index": {"type": "number"},
                        "enps": {"type": "number"},
                        "response_rate": {"type": "number"},
                        "dimensions": {"type": "array", "items": {"$ref": "#/components/schemas/Dimension"}},
                        "pyramid": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "level": {"type": "string"},
                                    "count": {"type": "integer"},
                                    "share": {"type": "number"},
                                },
                            },
                        },
                        "departments": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["code", "suppressed"],
                                "properties": {
                                    "code": {"type": "string"},
                                    "name": {"type": "string"},
                                    "n": {"type": "integer"},
                                    "suppressed": {"type": "boolean"},
                                    "reason": {"type": "string"},
                                    "index": {"type": "number"},
                                    "dimensions": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Dimension"},
                                    },
                                },
                            },
                        },
                    },
                },
                "ResponseRate": {
                    "type": "object",
                    "required": ["slug", "responses", "invited", "departments"],
                    "properties": {
                        "slug": {"type": "string"},
                        "status": {"type": "string", "enum": ["draft", "open", "closed"]},
                        "min_group_size": {"type": "integer"},
                        "responses": {"type": "integer"},
                        "invited": {"type": "integer"},
                        "base": {"type": "integer"},
                        "rate": {"type": "number", "minimum": 0, "maximum": 1},
                        "departments": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["code", "suppressed", "invited"],
                                "properties": {
                                    "code": {"type": "string"},
                                    "name": {"type": "string"},
                                    "suppressed": {"type": "boolean"},
                                    "reason": {"type": "string", "enum": ["too_few", "complementary"]},
                                    "invited": {"type": "integer"},
                                    "headcount": {"type": "integer"},
                                    "base": {"type": "integer"},
                                    "base_source": {"type": "string", "enum": ["invitations", "headcount"]},
                                    "responses": {"type": "integer"},
                                    "rate": {"type": "number", "minimum": 0, "maximum": 1},
                                },
                            },
                        },
                    },
                },
                "ResponseIn": {
                    "type": "object",
                    "required": ["answers"],
                    "additionalProperties": False,
                    "description": "Give either department (open link) or invitation (personal link).",
                    "properties": {
                        "department": {"type": "string"},
                        "invitation": {"type": "string"},
                        "answers": {
                            "type": "object",
                            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 5, "nullable": True},
                        },
                        "enps": {"type": "integer", "minimum": 0, "maximum": 10, "nullable": True},
                        "comment": {"type": "string", "maxLength": 5000, "nullable": True},
                    },
                },
            },
        },
        "paths": {
            "/surveys": {
                "post": {
                    "summary": "Create a survey",
                    "security": [{"bearer": []}],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SurveyIn"}}},
                    },
                    "responses": {
                        "201": {
                            "description": "Created",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Survey"}}},
                        },
                        "400": _error("Malformed JSON"),
                        "401": _error("Missing or invalid token"),
                        "403": _error("Token of the wrong role"),
                        "409": _error("Slug taken"),
                        "413": _error("Body over 1 MB"),
                        "422": _error("Invalid values"),
                    },
                }
            },
            "/surveys/{slug}": {
                "get": {
                    "summary": "Describe a survey and its instrument",
                    "parameters": [slug],
                    "responses": {
                        "200": {
                            "description": "The survey",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Survey"}}},
                        },
                        "404": _error("No such survey"),
                    },
                }
            },
            "/surveys/{slug}/results": {
                "get": {
                    "summary": "The survey's results, with groups below the threshold hidden",
                    "security": [{"bearer": []}],
                    "parameters": [
                        slug,
                        {"name": "department", "in": "query", "required": False, "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": {
                            "description": "Results",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Results"}}},
                        },
                        "400": _error("Empty department parameter"),
                        "401": _error("Missing or invalid token"),
                        "404": _error("No such survey or department"),
                    },
                }
            },
            "/surveys/{slug}/compare": {
                "get": {
                    "summary": "Departments side by side and the change since the previous round",
                    "description": "Departments carry the same figures as in /results (hidden ones only "
                    "'suppressed'); 'gaps' lists the largest significant differences from the rest of the "
                    "organisation; 'trend' compares with the previous round on the levels both rounds share "
                    "(Welch's t-test, Benjamini-Hochberg), with the organisation's scores in every round.",
                    "security": [{"bearer": []}],
                    "parameters": [
                        slug,
                        {"name": "sort", "in": "query", "required": False, "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": {
                            "description": "The comparison",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["slug", "suppressed"],
                                        "properties": {
                                            "slug": {"type": "string"},
                                            "suppressed": {"type": "boolean"},
                                            "organisation": {"type": "object"},
                                            "departments": {"type": "array", "items": {"type": "object"}},
                                            "gaps": {"type": "array", "items": {"type": "object"}},
                                            "trend": {"type": "object"},
                                        },
                                    }
                                }
                            },
                        },
                        "400": _error("Unknown level to sort by"),
                        "401": _error("Missing or invalid token"),
                        "404": _error("No such survey"),
                    },
                }
            },
            "/surveys/{slug}/report.pdf": {
                "get": {
                    "summary": "The PDF report (comments only with an HR token)",
                    "security": [{"bearer": []}],
                    "parameters": [
                        slug,
                        {"name": "department", "in": "query", "required": False, "schema": {"type": "string"}},
                        {
                            "name": "lang",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": ["nb", "nn", "en"]},
                        },
                    ],
                    "responses": {
                        "200": {"description": "The report", "content": {"application/pdf": {}}},
                        "400": _error("Unknown language"),
                        "401": _error("Missing or invalid token"),
                        "403": _error("The department is hidden"),
                        "404": _error("No such survey or department"),
                        "409": _error("Too few responses"),
                        "503": _error("Chromium (for the charts) is not installed"),
                    },
                }
            },
            "/surveys/{slug}/responses": {
                "post": {
                    "summary": "Submit one response (public)",
                    "parameters": [slug],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ResponseIn"}}},
                    },
                    "responses": {
                        "201": {"description": "Stored"},
                        "400": _error("Malformed JSON or invalid UTF-8"),
                        "404": _error("No such survey"),
                        "409": _error("Survey closed or invitation already used"),
                        "413": _error("Body over 1 MB"),
                        "422": _error("Invalid values"),
                        "429": _error("Too many wrong invitation tokens from this address (see Retry-After)"),
                    },
                }
            },
            "/surveys/{slug}/rate": {
                "get": {
                    "summary": "The response rate, overall and per department",
                    "description": "A department's base is its number of invitations, else its headcount. "
                    "While the survey is open, a department hidden by the confidentiality rules shows "
                    "neither its count nor its rate; the overall rate is given only when every "
                    "department has a base.",
                    "security": [{"bearer": []}],
                    "parameters": [slug],
                    "responses": {
                        "200": {
                            "description": "The response rate",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ResponseRate"}}},
                        },
                        "401": _error("Missing or invalid token"),
                        "404": _error("No such survey"),
                    },
                }
            },
        },
    }
