/* scim: SCIM 2.0 (RFC 7643 / RFC 7644) inside PostgreSQL */

\echo Use "CREATE EXTENSION scim" to load this file. \quit

-- ---------------------------------------------------------------------------
-- The schema registry
-- ---------------------------------------------------------------------------

CREATE TABLE scim.common_attributes (
	attributes jsonb NOT NULL CHECK (jsonb_typeof(attributes) = 'array')
);
COMMENT ON TABLE scim.common_attributes IS
	'The attributes every resource carries (RFC 7643 section 3.1: id, externalId, meta, schemas); one row, shipped with the extension';

CREATE TABLE scim.schema (
	id text PRIMARY KEY CHECK (id ~* '^urn:'),
	definition jsonb NOT NULL CHECK (definition->>'id' = id),
	builtin boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX schema_id_lower_idx ON scim.schema (lower(id));
COMMENT ON TABLE scim.schema IS
	'SCIM schemas (RFC 7643 section 7 representation): the built-in User, Group and EnterpriseUser, and those added with scim.register_schema()';
COMMENT ON COLUMN scim.schema.id IS 'The schema URN';
COMMENT ON COLUMN scim.schema.definition IS 'The schema representation: id, name, description, attributes';
COMMENT ON COLUMN scim.schema.builtin IS 'Shipped with the extension (not dumped by pg_dump)';

CREATE TABLE scim.resource_type (
	name text PRIMARY KEY,
	endpoint text NOT NULL UNIQUE,
	description text,
	schema text NOT NULL REFERENCES scim.schema (id)
);
COMMENT ON TABLE scim.resource_type IS 'SCIM resource types (RFC 7643 section 6) and their core schema';

CREATE TABLE scim.resource_type_extension (
	resource_type text NOT NULL REFERENCES scim.resource_type (name) ON DELETE CASCADE,
	schema text NOT NULL REFERENCES scim.schema (id) ON DELETE CASCADE,
	required boolean NOT NULL DEFAULT false,
	builtin boolean NOT NULL DEFAULT false,
	PRIMARY KEY (resource_type, schema)
);
COMMENT ON TABLE scim.resource_type_extension IS
	'Schema extensions of each resource type (RFC 7643 section 6, schemaExtensions)';

INSERT INTO scim.common_attributes (attributes) VALUES ($scim_schema$
[
  {
    "name": "id",
    "type": "string",
    "multiValued": false,
    "description": "The service provider's stable, unique identifier for the resource.",
    "required": false,
    "caseExact": true,
    "mutability": "readOnly",
    "returned": "always",
    "uniqueness": "server"
  },
  {
    "name": "externalId",
    "type": "string",
    "multiValued": false,
    "description": "An identifier for the resource assigned by the provisioning client.",
    "required": false,
    "caseExact": true,
    "mutability": "readWrite",
    "returned": "default",
    "uniqueness": "none"
  },
  {
    "name": "meta",
    "type": "complex",
    "multiValued": false,
    "description": "Resource metadata maintained by the service provider.",
    "required": false,
    "caseExact": false,
    "mutability": "readOnly",
    "returned": "default",
    "uniqueness": "none",
    "subAttributes": [
      {
        "name": "resourceType",
        "type": "string",
        "multiValued": false,
        "description": "The name of the resource type of the resource.",
        "required": false,
        "caseExact": true,
        "mutability": "readOnly",
        "returned": "default",
        "uniqueness": "none"
      },
      {
        "name": "created",
        "type": "dateTime",
        "multiValued": false,
        "description": "When the resource was added to the service provider.",
        "required": false,
        "caseExact": false,
        "mutability": "readOnly",
        "returned": "default",
        "uniqueness": "none"
      },
      {
        "name": "lastModified",
        "type": "dateTime",
        "multiValued": false,
        "description": "When the resource was last updated.",
        "required": false,
        "caseExact": false,
        "mutability": "readOnly",
        "returned": "default",
        "uniqueness": "none"
      },
      {
        "name": "location",
        "type": "reference",
        "multiValued": false,
        "description": "The URI of the resource.",
        "required": false,
        "caseExact": true,
        "mutability": "readOnly",
        "returned": "default",
        "uniqueness": "none",
        "referenceTypes": [
          "uri"
        ]
      },
      {
        "name": "version",
        "type": "string",
        "multiValued": false,
        "description": "The version (entity tag) of the resource.",
        "required": false,
        "caseExact": true,
        "mutability": "readOnly",
        "returned": "default",
        "uniqueness": "none"
      }
    ]
  },
  {
    "name": "schemas",
    "type": "reference",
    "multiValued": true,
    "description": "URIs of the schemas that define the attributes present in the resource.",
    "required": true,
    "caseExact": false,
    "mutability": "readWrite",
    "returned": "always",
    "uniqueness": "none",
    "referenceTypes": [
      "uri"
    ]
  }
]
$scim_schema$::jsonb);
INSERT INTO scim.schema (id, definition, builtin) SELECT d->>'id', d, true FROM (SELECT $scim_schema$
{
  "id": "urn:ietf:params:scim:schemas:core:2.0:User",
  "name": "User",
  "description": "User Account",
  "attributes": [
    {
      "name": "userName",
      "type": "string",
      "multiValued": false,
      "description": "The service provider's unique login identifier for the user.",
      "required": true,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "server"
    },
    {
      "name": "name",
      "type": "complex",
      "multiValued": false,
      "description": "The components of the user's real name.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none",
      "subAttributes": [
        {
          "name": "formatted",
          "type": "string",
          "multiValued": false,
          "description": "The full name formatted for display, including titles and suffixes.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "familyName",
          "type": "string",
          "multiValued": false,
          "description": "The family (last) name of the user.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "givenName",
          "type": "string",
          "multiValued": false,
          "description": "The given (first) name of the user.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "middleName",
          "type": "string",
          "multiValued": false,
          "description": "The middle name or names of the user.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "honorificPrefix",
          "type": "string",
          "multiValued": false,
          "description": "The honorific prefix or title, such as 'Ms.'.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "honorificSuffix",
          "type": "string",
          "multiValued": false,
          "description": "The honorific suffix, such as 'III'.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        }
      ]
    },
    {
      "name": "displayName",
      "type": "string",
      "multiValued": false,
      "description": "The name of the user as shown to end users.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none"
    },
    {
      "name": "nickName",
      "type": "string",
      "multiValued": false,
      "description": "The casual name used to address the user.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none"
    },
    {
      "name": "profileUrl",
      "type": "reference",
      "multiValued": false,
      "description": "A URL of a page showing the user's online profile.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none",
      "referenceTypes": [
        "external"
      ]
    },
    {
      "name": "title",
      "type": "string",
      "multiValued": false,
      "description": "The user's job title.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none"
    },
    {
      "name": "userType",
      "type": "string",
      "multiValued": false,
      "description": "The relationship between the organization and the user, such as 'Employee'.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none"
    },
    {
      "name": "preferredLanguage",
      "type": "string",
      "multiValued": false,
      "description": "The user's preferred written or spoken language.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none"
    },
    {
      "name": "locale",
      "type": "string",
      "multiValued": false,
      "description": "The user's default location for localizing currency, dates and numbers.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none"
    },
    {
      "name": "timezone",
      "type": "string",
      "multiValued": false,
      "description": "The user's time zone in IANA (Olson) database format.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none"
    },
    {
      "name": "active",
      "type": "boolean",
      "multiValued": false,
      "description": "Whether the user's account is administratively active.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none"
    },
    {
      "name": "password",
      "type": "string",
      "multiValued": false,
      "description": "The user's cleartext password, accepted on write and never returned.",
      "required": false,
      "caseExact": false,
      "mutability": "writeOnly",
      "returned": "never",
      "uniqueness": "none"
    },
    {
      "name": "emails",
      "type": "complex",
      "multiValued": true,
      "description": "Email addresses of the user.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none",
      "subAttributes": [
        {
          "name": "value",
          "type": "string",
          "multiValued": false,
          "description": "An email address of the user.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "display",
          "type": "string",
          "multiValued": false,
          "description": "A human-readable label for the email address, mainly for display.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "type",
          "type": "string",
          "multiValued": false,
          "description": "The kind of email address, such as 'work' or 'home'.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none",
          "canonicalValues": [
            "work",
            "home",
            "other"
          ]
        },
        {
          "name": "primary",
          "type": "boolean",
          "multiValued": false,
          "description": "Marks the preferred email address; at most one value may be true.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        }
      ]
    },
    {
      "name": "phoneNumbers",
      "type": "complex",
      "multiValued": true,
      "description": "Phone numbers of the user.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none",
      "subAttributes": [
        {
          "name": "value",
          "type": "string",
          "multiValued": false,
          "description": "A phone number of the user.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "display",
          "type": "string",
          "multiValued": false,
          "description": "A human-readable label for the phone number, mainly for display.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "type",
          "type": "string",
          "multiValued": false,
          "description": "The kind of phone number, such as 'work' or 'mobile'.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none",
          "canonicalValues": [
            "work",
            "home",
            "mobile",
            "fax",
            "pager",
            "other"
          ]
        },
        {
          "name": "primary",
          "type": "boolean",
          "multiValued": false,
          "description": "Marks the preferred phone number; at most one value may be true.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        }
      ]
    },
    {
      "name": "ims",
      "type": "complex",
      "multiValued": true,
      "description": "Instant messaging addresses of the user.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none",
      "subAttributes": [
        {
          "name": "value",
          "type": "string",
          "multiValued": false,
          "description": "An instant messaging address of the user.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "display",
          "type": "string",
          "multiValued": false,
          "description": "A human-readable label for the messaging address, mainly for display.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "type",
          "type": "string",
          "multiValued": false,
          "description": "The instant messaging service, such as 'xmpp'.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none",
          "canonicalValues": [
            "aim",
            "gtalk",
            "icq",
            "xmpp",
            "msn",
            "skype",
            "qq",
            "yahoo"
          ]
        },
        {
          "name": "primary",
          "type": "boolean",
          "multiValued": false,
          "description": "Marks the preferred messaging address; at most one value may be true.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        }
      ]
    },
    {
      "name": "photos",
      "type": "complex",
      "multiValued": true,
      "description": "URLs of photos of the user.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none",
      "subAttributes": [
        {
          "name": "value",
          "type": "reference",
          "multiValued": false,
          "description": "The URL of a photo of the user.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none",
          "referenceTypes": [
            "external"
          ]
        },
        {
          "name": "display",
          "type": "string",
          "multiValued": false,
          "description": "A human-readable label for the photo, mainly for display.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "type",
          "type": "string",
          "multiValued": false,
          "description": "The kind of image, 'photo' or 'thumbnail'.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none",
          "canonicalValues": [
            "photo",
            "thumbnail"
          ]
        },
        {
          "name": "primary",
          "type": "boolean",
          "multiValued": false,
          "description": "Marks the preferred photo; at most one value may be true.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        }
      ]
    },
    {
      "name": "addresses",
      "type": "complex",
      "multiValued": true,
      "description": "Physical mailing addresses of the user.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none",
      "subAttributes": [
        {
          "name": "formatted",
          "type": "string",
          "multiValued": false,
          "description": "The full mailing address formatted for display; may contain newlines.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "streetAddress",
          "type": "string",
          "multiValued": false,
          "description": "The street address component; may contain newlines.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "locality",
          "type": "string",
          "multiValued": false,
          "description": "The city or locality component.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "region",
          "type": "string",
          "multiValued": false,
          "description": "The state or region component.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "postalCode",
          "type": "string",
          "multiValued": false,
          "description": "The postal or zip code component.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "country",
          "type": "string",
          "multiValued": false,
          "description": "The country component as an ISO 3166-1 alpha-2 code.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "type",
          "type": "string",
          "multiValued": false,
          "description": "The kind of address, such as 'work' or 'home'.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none",
          "canonicalValues": [
            "work",
            "home",
            "other"
          ]
        },
        {
          "name": "primary",
          "type": "boolean",
          "multiValued": false,
          "description": "Marks the preferred address; at most one value may be true.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        }
      ]
    },
    {
      "name": "groups",
      "type": "complex",
      "multiValued": true,
      "description": "Groups the user belongs to, directly, through nesting or dynamically.",
      "required": false,
      "caseExact": false,
      "mutability": "readOnly",
      "returned": "default",
      "uniqueness": "none",
      "subAttributes": [
        {
          "name": "value",
          "type": "string",
          "multiValued": false,
          "description": "The id of a group the user belongs to.",
          "required": false,
          "caseExact": false,
          "mutability": "readOnly",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "$ref",
          "type": "reference",
          "multiValued": false,
          "description": "The URI of a Group resource the user belongs to.",
          "required": false,
          "caseExact": false,
          "mutability": "readOnly",
          "returned": "default",
          "uniqueness": "none",
          "referenceTypes": [
            "Group"
          ]
        },
        {
          "name": "display",
          "type": "string",
          "multiValued": false,
          "description": "A human-readable label for the group, mainly for display.",
          "required": false,
          "caseExact": false,
          "mutability": "readOnly",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "type",
          "type": "string",
          "multiValued": false,
          "description": "How the user belongs to the group, 'direct' or 'indirect'.",
          "required": false,
          "caseExact": false,
          "mutability": "readOnly",
          "returned": "default",
          "uniqueness": "none",
          "canonicalValues": [
            "direct",
            "indirect"
          ]
        }
      ]
    },
    {
      "name": "entitlements",
      "type": "complex",
      "multiValued": true,
      "description": "Entitlements the user has.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none",
      "subAttributes": [
        {
          "name": "value",
          "type": "string",
          "multiValued": false,
          "description": "The value of an entitlement.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "display",
          "type": "string",
          "multiValued": false,
          "description": "A human-readable label for the entitlement, mainly for display.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "type",
          "type": "string",
          "multiValued": false,
          "description": "The kind of entitlement.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "primary",
          "type": "boolean",
          "multiValued": false,
          "description": "Marks the preferred entitlement; at most one value may be true.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        }
      ]
    },
    {
      "name": "roles",
      "type": "complex",
      "multiValued": true,
      "description": "Roles the user holds, such as 'Student' or 'Faculty'.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none",
      "subAttributes": [
        {
          "name": "value",
          "type": "string",
          "multiValued": false,
          "description": "The value of a role.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "display",
          "type": "string",
          "multiValued": false,
          "description": "A human-readable label for the role, mainly for display.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "type",
          "type": "string",
          "multiValued": false,
          "description": "The kind of role.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none",
          "canonicalValues": []
        },
        {
          "name": "primary",
          "type": "boolean",
          "multiValued": false,
          "description": "Marks the preferred role; at most one value may be true.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        }
      ]
    },
    {
      "name": "x509Certificates",
      "type": "complex",
      "multiValued": true,
      "description": "X.509 certificates issued to the user.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none",
      "subAttributes": [
        {
          "name": "value",
          "type": "binary",
          "multiValued": false,
          "description": "A base64-encoded DER X.509 certificate.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "display",
          "type": "string",
          "multiValued": false,
          "description": "A human-readable label for the certificate, mainly for display.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "type",
          "type": "string",
          "multiValued": false,
          "description": "The kind of certificate.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none",
          "canonicalValues": []
        },
        {
          "name": "primary",
          "type": "boolean",
          "multiValued": false,
          "description": "Marks the preferred certificate; at most one value may be true.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        }
      ]
    }
  ]
}
$scim_schema$::jsonb AS d) s;
INSERT INTO scim.schema (id, definition, builtin) SELECT d->>'id', d, true FROM (SELECT $scim_schema$
{
  "id": "urn:ietf:params:scim:schemas:core:2.0:Group",
  "name": "Group",
  "description": "Group",
  "attributes": [
    {
      "name": "displayName",
      "type": "string",
      "multiValued": false,
      "description": "The human-readable name of the group.",
      "required": true,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "server"
    },
    {
      "name": "members",
      "type": "complex",
      "multiValued": true,
      "description": "The members of the group; their sub-attributes are immutable.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none",
      "subAttributes": [
        {
          "name": "value",
          "type": "string",
          "multiValued": false,
          "description": "The id of the member resource.",
          "required": false,
          "caseExact": false,
          "mutability": "immutable",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "$ref",
          "type": "reference",
          "multiValued": false,
          "description": "The URI of the member resource.",
          "required": false,
          "caseExact": false,
          "mutability": "immutable",
          "returned": "default",
          "uniqueness": "none",
          "referenceTypes": [
            "User",
            "Group"
          ]
        },
        {
          "name": "type",
          "type": "string",
          "multiValued": false,
          "description": "The resource type of the member, 'User' or 'Group'.",
          "required": false,
          "caseExact": false,
          "mutability": "immutable",
          "returned": "default",
          "uniqueness": "none",
          "canonicalValues": [
            "User",
            "Group"
          ]
        },
        {
          "name": "display",
          "type": "string",
          "multiValued": false,
          "description": "A human-readable label for the member, mainly for display.",
          "required": false,
          "caseExact": false,
          "mutability": "immutable",
          "returned": "default",
          "uniqueness": "none"
        }
      ]
    }
  ]
}
$scim_schema$::jsonb AS d) s;
INSERT INTO scim.schema (id, definition, builtin) SELECT d->>'id', d, true FROM (SELECT $scim_schema$
{
  "id": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
  "name": "EnterpriseUser",
  "description": "Enterprise attributes extending a user account.",
  "attributes": [
    {
      "name": "employeeNumber",
      "type": "string",
      "multiValued": false,
      "description": "An identifier assigned to the person, often by hire order.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none"
    },
    {
      "name": "costCenter",
      "type": "string",
      "multiValued": false,
      "description": "The name of the user's cost center.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none"
    },
    {
      "name": "organization",
      "type": "string",
      "multiValued": false,
      "description": "The name of the user's organization.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none"
    },
    {
      "name": "division",
      "type": "string",
      "multiValued": false,
      "description": "The name of the user's division.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none"
    },
    {
      "name": "department",
      "type": "string",
      "multiValued": false,
      "description": "The name of the user's department.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none"
    },
    {
      "name": "manager",
      "type": "complex",
      "multiValued": false,
      "description": "The user's manager, referencing another user's id.",
      "required": false,
      "caseExact": false,
      "mutability": "readWrite",
      "returned": "default",
      "uniqueness": "none",
      "subAttributes": [
        {
          "name": "value",
          "type": "string",
          "multiValued": false,
          "description": "The id of the user's manager.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none"
        },
        {
          "name": "$ref",
          "type": "reference",
          "multiValued": false,
          "description": "The URI of the user's manager.",
          "required": false,
          "caseExact": false,
          "mutability": "readWrite",
          "returned": "default",
          "uniqueness": "none",
          "referenceTypes": [
            "User"
          ]
        },
        {
          "name": "displayName",
          "type": "string",
          "multiValued": false,
          "description": "The display name of the user's manager.",
          "required": false,
          "caseExact": false,
          "mutability": "readOnly",
          "returned": "default",
          "uniqueness": "none"
        }
      ]
    }
  ]
}
$scim_schema$::jsonb AS d) s;

INSERT INTO scim.resource_type (name, endpoint, description, schema) VALUES
	('User', '/Users', 'User Account', 'urn:ietf:params:scim:schemas:core:2.0:User'),
	('Group', '/Groups', 'Group', 'urn:ietf:params:scim:schemas:core:2.0:Group');
INSERT INTO scim.resource_type_extension (resource_type, schema, required, builtin) VALUES
	('User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', false, true);

-- user-registered schemas survive pg_dump; the built-in ones come back with CREATE EXTENSION
SELECT pg_catalog.pg_extension_config_dump('scim.schema', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('scim.resource_type_extension', 'WHERE NOT builtin');

-- Every backend caches the registry (and scim.handle() the tokens it has
-- seen, and which tenants have group memberships); a change to these
-- tables tells them all.
CREATE FUNCTION scim._registry_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'scim_registry_changed'
	LANGUAGE C;
COMMENT ON FUNCTION scim._registry_changed() IS
	'Trigger: invalidates what every backend has cached of the table: the schema registry, the bearer tokens, or which tenants have group memberships (internal)';

CREATE TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.schema
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();
CREATE TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.resource_type
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();
CREATE TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.resource_type_extension
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();
CREATE TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.common_attributes
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();

CREATE FUNCTION scim.check_schema(schema jsonb) RETURNS void
	AS 'MODULE_PATHNAME', 'scim_check_schema'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.check_schema(jsonb) IS
	'Raises an error if a schema representation is not one scim can register (RFC 7643 section 7)';

CREATE FUNCTION scim.register_schema(schema jsonb, resource_type text DEFAULT 'User',
									 required boolean DEFAULT false)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	urn text := schema->>'id';
	type_name text;
	existing jsonb;
BEGIN
	PERFORM scim.check_schema(schema);
	SELECT t.name INTO type_name FROM scim.resource_type t
		WHERE lower(t.name) = lower(register_schema.resource_type);
	IF type_name IS NULL THEN
		RAISE EXCEPTION 'resource type "%" does not exist', register_schema.resource_type
			USING ERRCODE = 'SC404',
				  HINT = 'Known resource types are listed in scim.resource_type.';
	END IF;
	SELECT s.definition INTO existing FROM scim.schema s WHERE lower(s.id) = lower(urn);
	IF existing IS NULL THEN
		INSERT INTO scim.schema (id, definition) VALUES (urn, schema);
	ELSIF existing IS DISTINCT FROM schema THEN
		RAISE EXCEPTION 'schema "%" is already registered with a different definition', urn
			USING ERRCODE = 'SC400',
				  HINT = 'Use scim.unregister_schema() first to replace it.';
	ELSE
		urn := existing->>'id';
	END IF;
	INSERT INTO scim.resource_type_extension (resource_type, schema, required)
		VALUES (type_name, urn, register_schema.required)
		ON CONFLICT ON CONSTRAINT resource_type_extension_pkey
		DO UPDATE SET required = EXCLUDED.required;
END;
$$;
COMMENT ON FUNCTION scim.register_schema(jsonb, text, boolean) IS
	'Registers a custom extension schema (RFC 7643 section 7 form) on a resource type; filters, PATCH and projection then know its attributes';

CREATE FUNCTION scim.unregister_schema(urn text, resource_type text DEFAULT 'User')
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM scim.resource_type_extension e
			   WHERE lower(e.schema) = lower(urn) AND lower(e.resource_type) = lower(unregister_schema.resource_type)
				 AND e.builtin) THEN
		RAISE EXCEPTION 'schema "%" is built in and cannot be unregistered', urn
			USING ERRCODE = 'SC400';
	END IF;
	DELETE FROM scim.resource_type_extension e
		WHERE lower(e.schema) = lower(urn) AND lower(e.resource_type) = lower(unregister_schema.resource_type)
		  AND NOT e.builtin;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'schema "%" is not a registered extension of resource type "%"', urn, unregister_schema.resource_type
			USING ERRCODE = 'SC404';
	END IF;
	DELETE FROM scim.schema s
		WHERE lower(s.id) = lower(urn) AND NOT s.builtin
		  AND NOT EXISTS (SELECT 1 FROM scim.resource_type_extension e WHERE e.schema = s.id);
END;
$$;
COMMENT ON FUNCTION scim.unregister_schema(text, text) IS
	'Detaches a registered extension schema from a resource type, and forgets it once no resource type uses it';

-- ---------------------------------------------------------------------------
-- Errors
-- ---------------------------------------------------------------------------

CREATE FUNCTION scim.error_codes(OUT scim_type text, OUT sqlstate text, OUT http_status int)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'scim_error_codes'
	LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.error_codes() IS
	'The mapping of SCIM errors to SQLSTATE and HTTP status: every error scim raises carries one of these SQLSTATEs';

-- ---------------------------------------------------------------------------
-- Helpers the generated SQL calls (index-friendly and IMMUTABLE)
-- ---------------------------------------------------------------------------

CREATE FUNCTION scim.elements(value jsonb) RETURNS SETOF jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof(value) OPERATOR(pg_catalog.=) 'array' THEN value END) $$;
COMMENT ON FUNCTION scim.elements(jsonb) IS
	'The elements of a multi-valued attribute: nothing unless the value is a JSON array';

CREATE FUNCTION scim.values(value jsonb, sub_attribute text DEFAULT NULL) RETURNS text[]
	AS 'MODULE_PATHNAME', 'scim_values'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.values(jsonb, text) IS
	'The non-null values (as ->> renders them) of a sub-attribute across the elements of a multi-valued attribute; index it with GIN';

CREATE FUNCTION scim.values_lower(value jsonb, sub_attribute text DEFAULT NULL) RETURNS text[]
	AS 'MODULE_PATHNAME', 'scim_values_lower'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.values_lower(jsonb, text) IS
	'scim.values() passed through lower(), for attributes that are not caseExact; index it with GIN';

CREATE FUNCTION scim.instant(value text) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'scim_instant'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim.instant(text) IS
	'The instant an xsd:dateTime string denotes (no offset means UTC), or NULL when it is not one';

-- ---------------------------------------------------------------------------
-- Filters (RFC 7644 section 3.4.2.2)
-- ---------------------------------------------------------------------------

CREATE TYPE scim.filter;

CREATE FUNCTION scim.filter_in(cstring) RETURNS scim.filter
	AS 'MODULE_PATHNAME', 'scim_filter_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim.filter_in(cstring) IS 'Input function of scim.filter: checks the grammar';

CREATE FUNCTION scim.filter_out(scim.filter) RETURNS cstring
	AS 'MODULE_PATHNAME', 'scim_filter_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim.filter_out(scim.filter) IS 'Output function of scim.filter: the canonical form';

CREATE FUNCTION scim.filter_recv(internal) RETURNS scim.filter
	AS 'MODULE_PATHNAME', 'scim_filter_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim.filter_recv(internal) IS 'Binary input function of scim.filter';

CREATE FUNCTION scim.filter_send(scim.filter) RETURNS bytea
	AS 'MODULE_PATHNAME', 'scim_filter_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim.filter_send(scim.filter) IS 'Binary output function of scim.filter';

CREATE TYPE scim.filter (
	INPUT = scim.filter_in,
	OUTPUT = scim.filter_out,
	RECEIVE = scim.filter_recv,
	SEND = scim.filter_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended,
	CATEGORY = 'S',
	COLLATABLE = false
);
COMMENT ON TYPE scim.filter IS
	'A SCIM filter (RFC 7644 section 3.4.2.2) whose grammar has been checked; prints in canonical form';

-- stored as its canonical text, so it reads as text without conversion
CREATE CAST (scim.filter AS text) WITHOUT FUNCTION AS IMPLICIT;
COMMENT ON CAST (scim.filter AS text) IS 'A filter reads as its canonical text, so filter_sql() and matches() take it directly';
CREATE CAST (text AS scim.filter) WITH INOUT AS ASSIGNMENT;
COMMENT ON CAST (text AS scim.filter) IS 'Text becomes a filter through the input function, which checks the grammar';

CREATE FUNCTION scim.filter_sql(filter text, resource_type text DEFAULT 'User',
								data_column text DEFAULT 'data')
	RETURNS text
	AS 'MODULE_PATHNAME', 'scim_filter_sql'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.filter_sql(text, text, text) IS
	'Translates a SCIM filter into one SQL boolean expression over a jsonb column; literals are quoted, and eq on indexed attributes uses the indexes from scim.index_ddl()';

CREATE FUNCTION scim.matches(resource jsonb, filter text, resource_type text DEFAULT 'User')
	RETURNS boolean
	AS 'MODULE_PATHNAME', 'scim_matches'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.matches(jsonb, text, text) IS
	'Evaluates a SCIM filter on one resource; agrees with scim.filter_sql() on every input';

CREATE FUNCTION scim.index_ddl(tbl regclass, resource_type text DEFAULT 'User',
							   data_column text DEFAULT 'data', attributes text[] DEFAULT NULL)
	RETURNS SETOF text
	AS 'MODULE_PATHNAME', 'scim_index_ddl'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.index_ddl(regclass, text, text, text[]) IS
	'CREATE INDEX statements that make eq filters on the given attributes (default: id, externalId, userName, emails.value for User; id, externalId, displayName, members.value for Group) index lookups';

-- ---------------------------------------------------------------------------
-- PATCH (RFC 7644 section 3.5.2)
-- ---------------------------------------------------------------------------

CREATE FUNCTION scim.patch(resource jsonb, patch jsonb, resource_type text DEFAULT 'User')
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_patch'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.patch(jsonb, jsonb, text) IS
	'Applies a PatchOp request (RFC 7644 section 3.5.2) to a resource, all operations or none; returns the input unchanged when the request changes nothing';

-- ---------------------------------------------------------------------------
-- Responses: projection, list responses, errors (RFC 7644 sections 3.4.2, 3.9, 3.12)
-- ---------------------------------------------------------------------------

CREATE FUNCTION scim.project(resource jsonb, attributes text DEFAULT NULL,
							 excluded_attributes text DEFAULT NULL, resource_type text DEFAULT 'User')
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_project'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.project(jsonb, text, text, text) IS
	'Applies attributes or excludedAttributes (comma-separated paths) under the schema''s "returned" rules: never-returned attributes such as password never leave, always-returned ones such as id always do';

CREATE FUNCTION scim.error(status integer, scim_type text DEFAULT NULL, detail text DEFAULT NULL)
	RETURNS jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$
	SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
		'schemas', pg_catalog.jsonb_build_array('urn:ietf:params:scim:api:messages:2.0:Error'),
		'status', status::pg_catalog.text,
		'scimType', scim_type,
		'detail', detail))
	$$;
COMMENT ON FUNCTION scim.error(integer, text, text) IS
	'An Error document (RFC 7644 section 3.12); status is written as a string, as the RFC''s examples do';

CREATE FUNCTION scim._list_step(state internal, resource jsonb, total_results bigint, start_index integer)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'scim_list_step'
	LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION scim._list_step(internal, jsonb, bigint, integer) IS
	'Transition function of scim.list_response (internal)';

CREATE FUNCTION scim._list_final(state internal, resource jsonb, total_results bigint, start_index integer)
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_list_final'
	LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION scim._list_final(internal, jsonb, bigint, integer) IS
	'Final function of scim.list_response (internal)';

CREATE AGGREGATE scim.list_response(resource jsonb, total_results bigint, start_index integer) (
	SFUNC = scim._list_step,
	STYPE = internal,
	FINALFUNC = scim._list_final,
	FINALFUNC_EXTRA,
	FINALFUNC_MODIFY = READ_WRITE
);
COMMENT ON AGGREGATE scim.list_response(jsonb, bigint, integer) IS
	'A ListResponse (RFC 7644 section 3.4.2) of the aggregated resources, in aggregation order; total_results is the count of all matches (e.g. count(*) OVER ()), start_index the 1-based index of the first';

CREATE FUNCTION scim._list_step(state internal, resource jsonb)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'scim_list_step'
	LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION scim._list_step(internal, jsonb) IS
	'Transition function of scim.list_response (internal)';

CREATE FUNCTION scim._list_final(state internal, resource jsonb)
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_list_final'
	LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION scim._list_final(internal, jsonb) IS
	'Final function of scim.list_response (internal)';

CREATE AGGREGATE scim.list_response(resource jsonb) (
	SFUNC = scim._list_step,
	STYPE = internal,
	FINALFUNC = scim._list_final,
	FINALFUNC_EXTRA,
	FINALFUNC_MODIFY = READ_WRITE
);
COMMENT ON AGGREGATE scim.list_response(jsonb) IS
	'A ListResponse of all the aggregated resources: totalResults is their count, startIndex 1';

-- ---------------------------------------------------------------------------
-- The store behind scim.handle(): tenants, tokens, Users, Groups, members,
-- events.  The tenant id leads every primary key, unique constraint and
-- index (but the token hash and the GIN index on emails, which cannot), so
-- the tables can be distributed by tenant; row-level security keeps each
-- tenant's token to its own rows.
-- ---------------------------------------------------------------------------

-- The roles the store's privileges are given to (src/ext/privileges.sql
-- grants them; README "Roles").  Roles belong to the cluster, not to a
-- database or an extension: they are made here if missing, kept by DROP
-- EXTENSION, and shared by every database that installs scim.
--   scim_handler  what scim.handle() runs as (it runs as its owner, which is
--                 by this role): it reaches a tenant's rows only through the
--                 row-level security policies, for the tenant the handler
--                 has authenticated.  No one logs in as it or is its member.
--   scim_app      the application's backend: manages tenants and tokens,
--                 reads every tenant's users, groups and events.  Trusted
--                 across tenants; grant it to the application's own role.
-- A superuser, or a role with BYPASSRLS, is never subject to row-level
-- security, even FORCEd: as scim_handler it would read every tenant, so
-- such a role is refused here (and by the handler at each call).
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'scim_handler') THEN
		CREATE ROLE scim_handler NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
	ELSIF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'scim_handler' AND (rolsuper OR rolbypassrls)) THEN
		RAISE EXCEPTION 'role "scim_handler" is a superuser or bypasses row-level security'
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'scim.handle() runs as scim_handler, and row-level security keeps each token to its tenant only for roles it binds.',
				  HINT = 'ALTER ROLE scim_handler NOSUPERUSER NOBYPASSRLS, then create the extension again.';
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'scim_app') THEN
		CREATE ROLE scim_app NOLOGIN;
	END IF;
END
$$;

CREATE FUNCTION scim._random_token() RETURNS text
	AS 'MODULE_PATHNAME', 'scim_random_token'
	LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim._random_token() IS
	'A new secret token: 256 bits from the strong random source, base64url (internal)';

-- Cursors (RFC 9865) carry an HMAC-SHA-256 signature under a key of the
-- database's own, so that a client can neither edit one nor make one up.
CREATE FUNCTION scim._hmac(key bytea, data bytea) RETURNS bytea
	AS 'MODULE_PATHNAME', 'scim_hmac'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim._hmac(bytea, bytea) IS 'HMAC-SHA-256 (RFC 2104) of data under key (internal)';
REVOKE ALL ON FUNCTION scim._hmac(bytea, bytea) FROM PUBLIC;

CREATE FUNCTION scim._random_key() RETURNS bytea
	AS 'MODULE_PATHNAME', 'scim_random_key'
	LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim._random_key() IS 'A new 256-bit key from the strong random source, as scim.secret holds (internal)';
REVOKE ALL ON FUNCTION scim._random_key() FROM PUBLIC;

-- One row; no tenant column and no row-level security: the key is the
-- database's, and a cursor names its tenant in what is signed.
CREATE TABLE scim.secret (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	key bytea NOT NULL CHECK (octet_length(key) >= 32)
);
INSERT INTO scim.secret (key) VALUES (scim._random_key());
REVOKE ALL ON TABLE scim.secret FROM PUBLIC;
COMMENT ON TABLE scim.secret IS
	'The key cursors are signed with (HMAC-SHA-256), made at install from the strong random source; the role scim.handle() runs as must be granted SELECT on it, and no other role needs it. Replacing it (UPDATE scim.secret SET key = scim._random_key()) invalidates every cursor issued; pg_dump leaves it out and a restore makes a new one.';

-- In C: they read the key with the caller's rights, so that reading
-- scim.secret is the one privilege signing and checking a cursor needs.
CREATE FUNCTION scim._cursor_sign(data bytea) RETURNS bytea
	AS 'MODULE_PATHNAME', 'scim_cursor_sign'
	LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION scim._cursor_sign(bytea) IS 'The signature of a cursor''s contents under the key in scim.secret (internal)';
CREATE FUNCTION scim._cursor_verify(data bytea, mac bytea) RETURNS boolean
	AS 'MODULE_PATHNAME', 'scim_cursor_verify'
	LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION scim._cursor_verify(bytea, bytea) IS
	'Whether mac is the signature of a cursor''s contents, compared in constant time (internal)';

CREATE FUNCTION scim.parse_query(query text) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_parse_query'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim.parse_query(text) IS
	'The parameters of a URL query string as a jsonb object: percent-decoded, names lower-cased, the last of repeated names wins';

CREATE FUNCTION scim.sort_sql(path text, resource_type text DEFAULT 'User', data_column text DEFAULT 'data')
	RETURNS text
	AS 'MODULE_PATHNAME', 'scim_sort_sql'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.sort_sql(text, text, text) IS
	'The ORDER BY key for a sortBy path (RFC 7644 section 3.4.2.3): case-insensitive where the schema says so, instants for dateTimes, the primary value of a multi-valued attribute';

-- The handler's filters: over a row of scim.users or scim.groups, with a
-- Group's members and a User's groups read from scim.group_members.
CREATE FUNCTION scim._store_filter_sql(filter text, resource_type text, root boolean DEFAULT false,
									   alias text DEFAULT 'x')
	RETURNS text
	AS 'MODULE_PATHNAME', 'scim_store_filter_sql'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim._store_filter_sql(text, text, boolean, text) IS
	'The SQL of a filter over the row alias of scim.users or scim.groups, membership through scim.group_members; with root (POST /.search), attributes only other resource types have are absent rather than errors (internal)';

-- The store's lookup keys, LEAKPROOF so that under row-level security a
-- lookup by userName, displayName or externalId is still an index scan
-- (src/pg/values.c says why).
CREATE FUNCTION scim.key(resource jsonb, name text) RETURNS text
	AS 'MODULE_PATHNAME', 'scim_key'
	LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
COMMENT ON FUNCTION scim.key(jsonb, text) IS
	'resource->>name, LEAKPROOF: the store''s index key for externalId';
CREATE FUNCTION scim.key_lower(resource jsonb, name text) RETURNS text
	AS 'MODULE_PATHNAME', 'scim_key_lower'
	LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
COMMENT ON FUNCTION scim.key_lower(jsonb, text) IS
	'lower(resource->>name) in the database''s collation, LEAKPROOF: the store''s index key for userName and displayName';

CREATE FUNCTION scim.id_text(id uuid) RETURNS text
	AS 'MODULE_PATHNAME', 'scim_id_text'
	LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
COMMENT ON FUNCTION scim.id_text(uuid) IS
	'id::text, LEAKPROOF: joins a resource to its memberships on their index under row-level security';

CREATE FUNCTION scim.member_uuid(value text) RETURNS uuid
	AS 'MODULE_PATHNAME', 'scim_member_uuid'
	LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
COMMENT ON FUNCTION scim.member_uuid(text) IS
	'value::uuid for a member id as scim.group_members holds it, NULL for other text, LEAKPROOF: finds the users of memberships by their primary key under row-level security';

CREATE TABLE scim.tenant (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	request_timeout interval CHECK (request_timeout > interval '0' AND request_timeout <= interval '1 hour'),
	filter_max_terms integer CHECK (filter_max_terms BETWEEN 1 AND 10000)
);
COMMENT ON TABLE scim.tenant IS 'Tenants of the store: one per customer directory (one Entra ID, Okta or Google Workspace connection)';
COMMENT ON COLUMN scim.tenant.request_timeout IS
	'The deadline of this tenant''s requests, in place of the setting scim.request_timeout; NULL for the setting';
COMMENT ON COLUMN scim.tenant.filter_max_terms IS
	'The most terms a filter of this tenant''s may have, in place of the setting scim.filter_max_terms; NULL for the setting';
-- scim.handle() keeps the tenants' limits it has read: any change tells
-- every backend to forget them, as for scim.token below (ALWAYS, and a row
-- trigger for logical replication's apply).  With them disabled a backend
-- keeps the limits it read until it ends: they bound requests, they
-- grant nothing.
CREATE TRIGGER tenant_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.tenant
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();
ALTER TABLE scim.tenant ENABLE ALWAYS TRIGGER tenant_changed;
CREATE TRIGGER tenant_applied AFTER INSERT OR UPDATE OR DELETE ON scim.tenant
	FOR EACH ROW EXECUTE FUNCTION scim._registry_changed();
ALTER TABLE scim.tenant ENABLE REPLICA TRIGGER tenant_applied;

CREATE TABLE scim.token (
	tenant uuid NOT NULL REFERENCES scim.tenant (id) ON DELETE CASCADE,
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	hash bytea NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz,
	revoked_at timestamptz,
	prefix text,
	PRIMARY KEY (tenant, id)
);
-- looked up before the tenant is known: the one index that cannot lead with it
CREATE UNIQUE INDEX token_hash_idx ON scim.token (hash);
COMMENT ON TABLE scim.token IS 'Bearer tokens of the tenants, stored as SHA-256 hashes; the token itself is shown once';
COMMENT ON COLUMN scim.token.prefix IS
	'The first 12 characters of the token ("scim_" and 7 of its 43 random ones, leaving 214 secret bits), to tell tokens apart; NULL for tokens issued before it was kept';
-- scim.handle() keeps the tokens it has seen: a revocation, expiry change or
-- new token tells every backend to forget them.  ALWAYS: a session under
-- session_replication_role = replica (pg_restore --disable-triggers, tools
-- that apply changes) must tell too.  Logical replication's apply fires row
-- triggers only, hence the row trigger for the replica role.  A backend
-- caches tokens only while both are enabled so (src/pg/handle.c, watched()).
CREATE TRIGGER token_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.token
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();
ALTER TABLE scim.token ENABLE ALWAYS TRIGGER token_changed;
CREATE TRIGGER token_applied AFTER INSERT OR UPDATE OR DELETE ON scim.token
	FOR EACH ROW EXECUTE FUNCTION scim._registry_changed();
ALTER TABLE scim.token ENABLE REPLICA TRIGGER token_applied;

CREATE TABLE scim.users (
	tenant uuid NOT NULL REFERENCES scim.tenant (id) ON DELETE CASCADE,
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	data jsonb NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	last_modified timestamptz NOT NULL DEFAULT now(),
	version bigint NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX users_username_idx ON scim.users (tenant, scim.key_lower(data, 'userName'));
CREATE INDEX users_externalid_idx ON scim.users (tenant, scim.key(data, 'externalId'));
CREATE INDEX users_order_idx ON scim.users (tenant, created, id);
CREATE INDEX users_emails_idx ON scim.users USING gin (scim.values_lower(data->'emails', 'value'));
COMMENT ON TABLE scim.users IS 'SCIM Users: data holds the resource as stored (canonical names, meta without location)';

CREATE TABLE scim.groups (
	tenant uuid NOT NULL REFERENCES scim.tenant (id) ON DELETE CASCADE,
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	data jsonb NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	last_modified timestamptz NOT NULL DEFAULT now(),
	version bigint NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX groups_displayname_idx ON scim.groups (tenant, scim.key_lower(data, 'displayName'));
CREATE INDEX groups_externalid_idx ON scim.groups (tenant, scim.key(data, 'externalId'));
CREATE INDEX groups_order_idx ON scim.groups (tenant, created, id);
COMMENT ON TABLE scim.groups IS 'SCIM Groups: data holds the resource without its members, which live in scim.group_members';

-- A member's id as uuid_out() writes it, and nothing else: one member is
-- one row whatever case a client sends, and deleting a user or group finds
-- its memberships by its id (src/pg/members.c writes the form).  A domain,
-- for the reason scim.event_kind is one (below).
CREATE DOMAIN scim.member_id AS text
	CHECK (VALUE ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$');
COMMENT ON DOMAIN scim.member_id IS 'The id of a group member, a lower-case hyphenated UUID';

CREATE TABLE scim.group_members (
	tenant uuid NOT NULL,
	group_id uuid NOT NULL,
	value scim.member_id NOT NULL,
	type text CHECK (type IN ('User', 'Group')),
	display text,
	PRIMARY KEY (tenant, group_id, value),
	FOREIGN KEY (tenant, group_id) REFERENCES scim.groups (tenant, id) ON DELETE CASCADE
);
CREATE INDEX group_members_value_idx ON scim.group_members (tenant, value);
-- scim.handle() keeps which tenants have no memberships, to read their
-- users without a join: any change tells every backend to forget, under
-- any session_replication_role, as for scim.token.  The row trigger fires
-- only under the replica role, so an ordinary write of many members
-- invalidates once.
CREATE TRIGGER members_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.group_members
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();
ALTER TABLE scim.group_members ENABLE ALWAYS TRIGGER members_changed;
CREATE TRIGGER members_applied AFTER INSERT OR UPDATE OR DELETE ON scim.group_members
	FOR EACH ROW EXECUTE FUNCTION scim._registry_changed();
ALTER TABLE scim.group_members ENABLE REPLICA TRIGGER members_applied;
COMMENT ON TABLE scim.group_members IS
	'Group membership, one row per member: adding one member to a 100,000-member group is an index insert';

-- A domain, not a CHECK on the column: a domain's check is kept ready in
-- the type cache, a column's is read back from the catalog by every
-- statement that inserts, and every write inserts an event.
CREATE DOMAIN scim.event_kind AS text
	CHECK (VALUE IN ('created', 'updated', 'suspended', 'unsuspended', 'deleted', 'failed'));
COMMENT ON DOMAIN scim.event_kind IS 'What an event records: created, updated, suspended, unsuspended, deleted or failed';

-- No foreign key to scim.tenant: every write appends an event, and the key
-- check would lock the tenant's row each time (concurrent writers of one
-- tenant then share it through multixacts).  The log of a deleted tenant
-- stays, as an audit trail, until scim.prune_events() ages it out.
--
-- One index: the key (tenant, at, id) is unique by its id and serves a
-- tenant's log in time order, which is how the log is read.  A second
-- index for the id alone cost every write another index entry and WAL
-- record, and nothing looks an event up by its id.
CREATE TABLE scim.event (
	tenant uuid NOT NULL,
	id bigint GENERATED ALWAYS AS IDENTITY,
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	kind scim.event_kind NOT NULL,
	resource_type text,
	resource_id uuid,
	operation text NOT NULL,
	status integer NOT NULL,
	scim_type text,
	detail text,
	PRIMARY KEY (tenant, at, id)
);
COMMENT ON SEQUENCE scim.event_id_seq IS 'Numbers the events (identity of scim.event.id)';
COMMENT ON TABLE scim.event IS 'What each provisioning request did, per tenant: the log an admin reviews after a cycle';

-- security_invoker: the reader's own privileges and policies apply, so
-- the view shows no more of the log than its reader could read directly.
CREATE VIEW scim.events WITH (security_invoker = true) AS
	SELECT e.tenant, t.name AS tenant_name, e.at, e.kind, e.resource_type, e.resource_id,
		   e.operation, e.status, e.scim_type, e.detail
	FROM scim.event e LEFT JOIN scim.tenant t ON t.id = e.tenant;
COMMENT ON VIEW scim.events IS 'The event log with tenant names (NULL once a tenant is deleted), newest last';

-- Row-level security: scim_handler sees the rows of the tenant the
-- handler acts for (scim.current_tenant(), which only the handler can
-- set), scim_app every tenant's.  Any other role that is not the owner or
-- a superuser sees none: no policy applies to it.
ALTER TABLE scim.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim.users FORCE ROW LEVEL SECURITY;
ALTER TABLE scim.groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim.groups FORCE ROW LEVEL SECURITY;
ALTER TABLE scim.group_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim.group_members FORCE ROW LEVEL SECURITY;
ALTER TABLE scim.event ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim.event FORCE ROW LEVEL SECURITY;

-- In C, not SQL: an inlined SQL body is compiled again in every policy
-- qual of every statement execution (src/pg/tenant.c).
-- PARALLEL RESTRICTED: the tenant is the handler's process's alone, which a
-- parallel worker cannot see; the policies' scans stay in the leader.
CREATE FUNCTION scim.current_tenant() RETURNS uuid
	LANGUAGE c STABLE PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'scim_current_tenant';
COMMENT ON FUNCTION scim.current_tenant() IS
	'The tenant the current scim.handle() call acts for (set by the handler alone, after it has authenticated a token), or NULL';

CREATE POLICY tenant_rows ON scim.users TO scim_handler USING (tenant = scim.current_tenant());
CREATE POLICY tenant_rows ON scim.groups TO scim_handler USING (tenant = scim.current_tenant());
CREATE POLICY tenant_rows ON scim.group_members TO scim_handler USING (tenant = scim.current_tenant());
CREATE POLICY tenant_rows ON scim.event TO scim_handler USING (tenant = scim.current_tenant());
CREATE POLICY application ON scim.users FOR SELECT TO scim_app USING (true);
CREATE POLICY application ON scim.groups FOR SELECT TO scim_app USING (true);
CREATE POLICY application ON scim.group_members FOR SELECT TO scim_app USING (true);
CREATE POLICY application ON scim.event FOR SELECT TO scim_app USING (true);
CREATE POLICY application_prune ON scim.event FOR DELETE TO scim_app USING (true);

CREATE FUNCTION scim.create_tenant(name text) RETURNS uuid
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$ INSERT INTO scim.tenant (name) VALUES (create_tenant.name) RETURNING id $$;
COMMENT ON FUNCTION scim.create_tenant(text) IS 'Creates a tenant and returns its id';

CREATE FUNCTION scim.create_token(tenant uuid, expires_at timestamptz DEFAULT NULL) RETURNS text
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	token text := scim._random_token();
BEGIN
	INSERT INTO scim.token (tenant, hash, expires_at, prefix)
		VALUES (create_token.tenant, sha256(convert_to(token, 'UTF8')), create_token.expires_at, left(token, 12));
	RETURN token;
END;
$$;
COMMENT ON FUNCTION scim.create_token(uuid, timestamptz) IS
	'Issues a bearer token for a tenant and returns it; only its SHA-256 hash and its first 12 characters are kept, so this is the one time it can be read';

CREATE FUNCTION scim.revoke_token(token text) RETURNS boolean
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH r AS (UPDATE scim.token SET revoked_at = now()
			   WHERE hash = sha256(convert_to(revoke_token.token, 'UTF8')) AND revoked_at IS NULL
			   RETURNING 1)
	SELECT count(*) > 0 FROM r
	$$;
COMMENT ON FUNCTION scim.revoke_token(text) IS 'Revokes a bearer token; true if it was live';

-- By id, so that the token never appears in statement text (and so in the
-- server's log): two arguments, so scim.revoke_token('...') stays the one above.
CREATE FUNCTION scim.revoke_token(tenant uuid, id uuid) RETURNS boolean
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH r AS (UPDATE scim.token t SET revoked_at = pg_catalog.now()
			   WHERE t.tenant = revoke_token.tenant AND t.id = revoke_token.id AND t.revoked_at IS NULL
			   RETURNING 1)
	SELECT pg_catalog.count(*) > 0 FROM r
	$$;
COMMENT ON FUNCTION scim.revoke_token(uuid, uuid) IS
	'Revokes a bearer token by its tenant and id (as scim.tokens shows them); true if it was live';

CREATE VIEW scim.tokens WITH (security_invoker = true) AS
	SELECT t.tenant, t.id, t.prefix, t.created, t.expires_at, t.revoked_at FROM scim.token t;
COMMENT ON VIEW scim.tokens IS
	'The bearer tokens without their hashes: prefix (the first 12 characters, NULL for tokens issued before it was kept) tells which is which; read with the rights on scim.token';

REVOKE ALL ON TABLE scim.token FROM PUBLIC;

CREATE FUNCTION scim.prune_events(retention interval DEFAULT NULL) RETURNS bigint
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH d AS (DELETE FROM scim.event
			   WHERE at < now() - coalesce(retention, nullif(current_setting('scim.event_retention', true), '')::interval,
											 interval '90 days')
			   RETURNING 1)
	SELECT count(*) FROM d
	$$;
COMMENT ON FUNCTION scim.prune_events(interval) IS
	'Deletes events older than the retention (the argument, else the scim.event_retention setting, else 90 days); returns how many';

-- ---------------------------------------------------------------------------
-- scim.handle(): one SCIM request in, one response out (RFC 7644)
-- ---------------------------------------------------------------------------

CREATE TYPE scim.response AS (status integer, headers jsonb, body jsonb);
COMMENT ON TYPE scim.response IS 'What scim.handle() answers: HTTP status, response headers, JSON body (NULL for none)';
CREATE TYPE scim.response_text AS (status integer, headers text, body text);
COMMENT ON TYPE scim.response_text IS 'What scim.handle_text() answers: scim.response with headers and body as JSON text';

CREATE FUNCTION scim._hash_password(password text) RETURNS text
	AS 'MODULE_PATHNAME', 'scim_hash_password'
	LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim._hash_password(text) IS
	'A SCRAM-SHA-256 secret for a password (PostgreSQL''s own format); the password itself is never stored (internal)';

-- The base URL that meta.location and Location are built on.
CREATE FUNCTION scim._base_url(headers jsonb) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$
	SELECT rtrim(coalesce(headers->>'x-scim-base-url',
		   CASE WHEN headers ? 'host'
				THEN coalesce(headers->>'x-forwarded-proto', 'http') || '://' || (headers->>'host')
					 || coalesce(headers->>'x-scim-base-path', '/scim/v2')
				ELSE coalesce(headers->>'x-scim-base-path', '/scim/v2') END), '/')
	$$;
COMMENT ON FUNCTION scim._base_url(jsonb) IS
	'The SCIM base URL of a request: the x-scim-base-url header, else built from host, x-forwarded-proto and x-scim-base-path (internal)';

CREATE FUNCTION scim._body_jsonb(body text) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_body_jsonb'
	LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION scim._body_jsonb(text) IS
	'A request body as scim.handle()''s own JSON reader reads it, NULL where it leaves the body to jsonb_in(); for tests against jsonb_in() (internal)';

-- The PATCH step of scim.handle()'s one-statement user PATCH (src/pg/handle.c).
-- Costed high so that the planner tests it after every other condition: it
-- is to see the one row the key and row-level security select.
CREATE FUNCTION scim._patch_step(data jsonb, version bigint, request jsonb, at timestamptz) RETURNS boolean
	AS 'MODULE_PATHNAME', 'scim_patch_step'
	LANGUAGE C VOLATILE STRICT COST 10000;
COMMENT ON FUNCTION scim._patch_step(jsonb, bigint, jsonb, timestamptz) IS
	'Applies a PatchOp request to a user''s data for scim.handle()''s UPDATE; true when the row is to take scim._patched() (internal)';
CREATE FUNCTION scim._patched() RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_patched'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim._patched() IS 'The resource the last scim._patch_step() made (internal)';
CREATE FUNCTION scim._patched_kind() RETURNS text
	AS 'MODULE_PATHNAME', 'scim_patched_kind'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim._patched_kind() IS 'The event kind (updated, suspended, unsuspended) of the last scim._patch_step() (internal)';

-- The tenant a request acts for, set by the handler after authentication
-- and only inside it (src/pg/tenant.c): not callable from anywhere else.
CREATE FUNCTION scim._act_for(tenant uuid) RETURNS void
	AS 'MODULE_PATHNAME', 'scim_act_for'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim._act_for(uuid) IS
	'Makes the current scim.handle() call act for a tenant (NULL: for none), until the call ends; raises outside scim.handle() but for a superuser (internal)';

-- The SCIM service, in C (src/pg/handle.c and the files it names).
CREATE FUNCTION scim.handle(method text, path text, query text DEFAULT NULL,
							headers jsonb DEFAULT '{}', body text DEFAULT NULL)
	RETURNS scim.response
	AS 'MODULE_PATHNAME', 'scim_handle'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim.handle(text, text, text, jsonb, text) IS
	'Answers one SCIM request (RFC 7644): /Users, /Groups, their /.search, /ServiceProviderConfig, /Schemas, /ResourceTypes; path is relative to the SCIM base, headers have lower-case names';

-- The same answer as text, for HTTP layers that write it out as it is:
-- documents are written as text directly, where casting scim.handle()'s
-- jsonb would build each document only to print it.
CREATE FUNCTION scim.handle_text(method text, path text, query text DEFAULT NULL,
								 headers jsonb DEFAULT '{}', body text DEFAULT NULL)
	RETURNS scim.response_text
	AS 'MODULE_PATHNAME', 'scim_handle_text'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim.handle_text(text, text, text, jsonb, text) IS
	'scim.handle() with the response''s headers and body as JSON text, exactly as their ::text casts would give them; what scim-server calls';

-- ---------------------------------------------------------------------------
-- Privileges: who may call what, and as whom the handler runs.  The roles
-- are made at the top of store.sql; README "Roles" says what each is for.
-- ---------------------------------------------------------------------------

-- The handler runs as its owner, scim_handler, never as its caller or as
-- the installing superuser (whom row-level security would not bind).  Its
-- C code switches to the owner itself, as fmgr does for a SECURITY
-- DEFINER function but without looking the function up again at every
-- execution (src/pg/tenant.c), and pins search_path before it runs any
-- statement, only when the caller's is not pinned already: a SET clause
-- here would set and restore the path on every call.
ALTER FUNCTION scim.handle(text, text, text, jsonb, text) OWNER TO scim_handler;
ALTER FUNCTION scim.handle_text(text, text, text, jsonb, text) OWNER TO scim_handler;
REVOKE ALL ON FUNCTION scim.handle(text, text, text, jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION scim.handle_text(text, text, text, jsonb, text) FROM PUBLIC;

-- Internal functions (named scim._*) are for the handler and the
-- extension's own functions alone.
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
			 WHERE p.pronamespace = 'scim'::regnamespace AND p.proname LIKE '\_%'
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO scim_handler', f);
	END LOOP;
END
$$;

-- scim_handler: the schema registry to read, the store through the
-- policies of store.sql.  Not scim.tenant nor scim.token: the handler
-- reads a token's row with the table owner's rights, by its hash only.
GRANT USAGE ON SCHEMA scim TO scim_handler;
GRANT SELECT ON scim.common_attributes, scim.schema, scim.resource_type, scim.resource_type_extension
	TO scim_handler;
GRANT SELECT, INSERT, UPDATE, DELETE ON scim.users, scim.groups, scim.group_members TO scim_handler;
GRANT INSERT ON scim.event TO scim_handler;
-- the key cursors are signed with (scim._cursor_sign() and scim._cursor_verify()
-- read it with the caller's rights): the handler's alone, no other role's
GRANT SELECT ON scim.secret TO scim_handler;

-- scim_app: tenants and tokens, every tenant's resources and events to
-- read, events to prune, and the handler to call as an HTTP layer would.
GRANT USAGE ON SCHEMA scim TO scim_app;
GRANT SELECT ON scim.common_attributes, scim.schema, scim.resource_type, scim.resource_type_extension
	TO scim_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON scim.tenant TO scim_app;
GRANT SELECT, INSERT, UPDATE ON scim.token TO scim_app;
GRANT SELECT ON scim.tokens TO scim_app;
GRANT SELECT ON scim.users, scim.groups, scim.group_members, scim.event, scim.events TO scim_app;
GRANT DELETE ON scim.event TO scim_app;
GRANT EXECUTE ON FUNCTION scim._random_token() TO scim_app;
GRANT EXECUTE ON FUNCTION scim.handle(text, text, text, jsonb, text) TO scim_app;
GRANT EXECUTE ON FUNCTION scim.handle_text(text, text, text, jsonb, text) TO scim_app;
