/* scim 0.1.0: SCIM 2.0 (RFC 7643 / RFC 7644) inside PostgreSQL */

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
  "description": "A user account.",
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
  "description": "A group of users or other groups.",
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
      "uniqueness": "none"
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
	AS $$ SELECT jsonb_array_elements(CASE WHEN jsonb_typeof(value) = 'array' THEN value END) $$;
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
	SELECT jsonb_strip_nulls(jsonb_build_object(
		'schemas', jsonb_build_array('urn:ietf:params:scim:api:messages:2.0:Error'),
		'status', status::text,
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

CREATE FUNCTION scim._random_token() RETURNS text
	AS 'MODULE_PATHNAME', 'scim_random_token'
	LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim._random_token() IS
	'A new secret token: 256 bits from the strong random source, base64url (internal)';

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

CREATE TABLE scim.tenant (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL,
	created timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE scim.tenant IS 'Tenants of the store: one per customer directory (one Entra ID, Okta or Google Workspace connection)';

CREATE TABLE scim.token (
	tenant uuid NOT NULL REFERENCES scim.tenant (id) ON DELETE CASCADE,
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	hash bytea NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz,
	revoked_at timestamptz,
	PRIMARY KEY (tenant, id)
);
-- looked up before the tenant is known: the one index that cannot lead with it
CREATE UNIQUE INDEX token_hash_idx ON scim.token (hash);
COMMENT ON TABLE scim.token IS 'Bearer tokens of the tenants, stored as SHA-256 hashes; the token itself is shown once';
-- scim.handle() keeps the tokens it has seen: a revocation, expiry change or
-- new token tells every backend to forget them
CREATE TRIGGER token_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.token
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();

CREATE TABLE scim.users (
	tenant uuid NOT NULL REFERENCES scim.tenant (id) ON DELETE CASCADE,
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	data jsonb NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	last_modified timestamptz NOT NULL DEFAULT now(),
	version bigint NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX users_username_idx ON scim.users (tenant, lower(data->>'userName'));
CREATE INDEX users_externalid_idx ON scim.users (tenant, (data->>'externalId'));
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
CREATE UNIQUE INDEX groups_displayname_idx ON scim.groups (tenant, lower(data->>'displayName'));
CREATE INDEX groups_externalid_idx ON scim.groups (tenant, (data->>'externalId'));
CREATE INDEX groups_order_idx ON scim.groups (tenant, created, id);
COMMENT ON TABLE scim.groups IS 'SCIM Groups: data holds the resource without its members, which live in scim.group_members';

CREATE TABLE scim.group_members (
	tenant uuid NOT NULL,
	group_id uuid NOT NULL,
	value text NOT NULL,
	type text CHECK (type IN ('User', 'Group')),
	display text,
	PRIMARY KEY (tenant, group_id, value),
	FOREIGN KEY (tenant, group_id) REFERENCES scim.groups (tenant, id) ON DELETE CASCADE
);
CREATE INDEX group_members_value_idx ON scim.group_members (tenant, value);
-- scim.handle() keeps which tenants have no memberships, to read their
-- users without a join: any change tells every backend to forget
CREATE TRIGGER members_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.group_members
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();
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

CREATE VIEW scim.events AS
	SELECT e.tenant, t.name AS tenant_name, e.at, e.kind, e.resource_type, e.resource_id,
		   e.operation, e.status, e.scim_type, e.detail
	FROM scim.event e LEFT JOIN scim.tenant t ON t.id = e.tenant;
COMMENT ON VIEW scim.events IS 'The event log with tenant names (NULL once a tenant is deleted), newest last';

-- row-level security: a request sets scim.tenant for its transaction
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
CREATE FUNCTION scim.current_tenant() RETURNS uuid
	LANGUAGE c STABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'scim_current_tenant';
COMMENT ON FUNCTION scim.current_tenant() IS
	'The tenant the current transaction acts for (set by scim.handle() after authentication), or NULL';

CREATE POLICY tenant_rows ON scim.users USING (tenant = scim.current_tenant());
CREATE POLICY tenant_rows ON scim.groups USING (tenant = scim.current_tenant());
CREATE POLICY tenant_rows ON scim.group_members USING (tenant = scim.current_tenant());
CREATE POLICY tenant_rows ON scim.event USING (tenant = scim.current_tenant());

CREATE FUNCTION scim.create_tenant(name text) RETURNS uuid
	LANGUAGE sql VOLATILE
	AS $$ INSERT INTO scim.tenant (name) VALUES (create_tenant.name) RETURNING id $$;
COMMENT ON FUNCTION scim.create_tenant(text) IS 'Creates a tenant and returns its id';

CREATE FUNCTION scim.create_token(tenant uuid, expires_at timestamptz DEFAULT NULL) RETURNS text
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	token text := scim._random_token();
BEGIN
	INSERT INTO scim.token (tenant, hash, expires_at)
		VALUES (create_token.tenant, sha256(convert_to(token, 'UTF8')), create_token.expires_at);
	RETURN token;
END;
$$;
COMMENT ON FUNCTION scim.create_token(uuid, timestamptz) IS
	'Issues a bearer token for a tenant and returns it; only its SHA-256 hash is kept, so this is the one time it can be read';

CREATE FUNCTION scim.revoke_token(token text) RETURNS boolean
	LANGUAGE sql VOLATILE
	AS $$
	WITH r AS (UPDATE scim.token SET revoked_at = now()
			   WHERE hash = sha256(convert_to(revoke_token.token, 'UTF8')) AND revoked_at IS NULL
			   RETURNING 1)
	SELECT count(*) > 0 FROM r
	$$;
COMMENT ON FUNCTION scim.revoke_token(text) IS 'Revokes a bearer token; true if it was live';

CREATE FUNCTION scim._authenticate(token text) RETURNS uuid
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	-- plpgsql, not sql: a SECURITY DEFINER sql function is planned on every call
	RETURN (SELECT t.tenant FROM scim.token t
			WHERE t.hash = sha256(convert_to(_authenticate.token, 'UTF8'))
			  AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()));
END;
$$;
COMMENT ON FUNCTION scim._authenticate(text) IS 'The tenant of a live bearer token, or NULL (internal)';
REVOKE ALL ON FUNCTION scim._authenticate(text) FROM PUBLIC;
REVOKE ALL ON TABLE scim.token FROM PUBLIC;

CREATE FUNCTION scim.prune_events(retention interval DEFAULT NULL) RETURNS bigint
	LANGUAGE sql VOLATILE
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

CREATE FUNCTION scim._strip_keys(doc jsonb, names text[]) RETURNS jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$
	SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb)
	FROM jsonb_each(doc) WHERE lower(key) <> ALL (names)
	$$;
COMMENT ON FUNCTION scim._strip_keys(jsonb, text[]) IS
	'doc without the members whose lower-cased names are listed (internal)';

-- Attribute names are case-insensitive (RFC 7643 §2.1): "Members" is members.
CREATE FUNCTION scim._body_member(doc jsonb, name text) RETURNS jsonb
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	AS $$
BEGIN
	RETURN (SELECT value FROM jsonb_each(doc) WHERE lower(key) = name LIMIT 1);
END;
$$;
COMMENT ON FUNCTION scim._body_member(jsonb, text) IS
	'The value of doc''s member whose lower-cased name is name, or NULL if it has none (internal)';

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

CREATE FUNCTION scim._response(status integer, body jsonb, extra jsonb DEFAULT '{}') RETURNS scim.response
	LANGUAGE sql STABLE PARALLEL SAFE
	AS $$
	SELECT (status,
			CASE WHEN body IS NULL THEN extra
				 ELSE jsonb_build_object('content-type', 'application/scim+json; charset=utf-8') || extra END
			|| CASE WHEN scim.current_tenant() IS NULL THEN '{}'::jsonb
					ELSE jsonb_build_object('x-scim-tenant', scim.current_tenant()::text) END,
			body)::scim.response
	$$;
COMMENT ON FUNCTION scim._response(integer, jsonb, jsonb) IS
	'A response with the SCIM content type when it has a body, and x-scim-tenant for the HTTP layer''s log (internal)';

CREATE FUNCTION scim._fail(status integer, scim_type text, detail text) RETURNS void
	LANGUAGE plpgsql
	AS $$
BEGIN
	RAISE EXCEPTION USING
		ERRCODE = coalesce((SELECT c.sqlstate FROM scim.error_codes() c WHERE c.scim_type = _fail.scim_type),
						   CASE status WHEN 404 THEN 'SC404' WHEN 401 THEN 'SH401' WHEN 403 THEN 'SH403'
									   WHEN 405 THEN 'SH405' WHEN 409 THEN 'SC003' WHEN 412 THEN 'SH412'
									   WHEN 413 THEN 'SH413' WHEN 501 THEN 'SH501' ELSE 'SC400' END),
		MESSAGE = detail;
END;
$$;
COMMENT ON FUNCTION scim._fail(integer, text, text) IS 'Raises the error a response will report (internal)';

-- The resource as a response shows it: meta.location added, groups of a user, members of a group.
CREATE FUNCTION scim._present(rtype text, tenant uuid, id uuid, data jsonb, base text, want_members boolean)
	RETURNS jsonb
	LANGUAGE plpgsql STABLE
	AS $$
DECLARE
	doc jsonb := jsonb_set(data, '{meta,location}',
						   to_jsonb(base || CASE rtype WHEN 'User' THEN '/Users/' ELSE '/Groups/' END || id::text));
BEGIN
	IF rtype = 'Group' AND want_members THEN
		doc := doc || jsonb_build_object('members', coalesce((
			SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
					'value', m.value, 'type', m.type, 'display', m.display,
					'$ref', base || CASE m.type WHEN 'Group' THEN '/Groups/' ELSE '/Users/' END || m.value))
				ORDER BY m.value)
			FROM scim.group_members m WHERE m.tenant = _present.tenant AND m.group_id = _present.id), '[]'::jsonb));
	ELSIF rtype = 'User' THEN
		doc := doc || coalesce((
			SELECT jsonb_build_object('groups', jsonb_agg(jsonb_build_object(
					'value', g.id::text, 'display', g.data->>'displayName', 'type', 'direct',
					'$ref', base || '/Groups/' || g.id::text) ORDER BY g.id))
			FROM scim.group_members m JOIN scim.groups g ON g.tenant = m.tenant AND g.id = m.group_id
			WHERE m.tenant = _present.tenant AND m.value = _present.id::text
			HAVING count(*) > 0), '{}'::jsonb);
	END IF;
	RETURN doc;
END;
$$;
COMMENT ON FUNCTION scim._present(text, uuid, uuid, jsonb, text, boolean) IS
	'A stored resource as responses show it: location, the groups of a user, the members of a group (internal)';

-- Check a body against the schema, the way a PUT or POST must: names canonical,
-- types coerced, read-only attributes ignored.  Reuses the PATCH engine.
CREATE FUNCTION scim._normalize(rtype text, body jsonb) RETURNS jsonb
	LANGUAGE plpgsql STABLE
	AS $$
DECLARE
	input jsonb;
	out jsonb;
	urn text;
BEGIN
	IF jsonb_typeof(body) IS DISTINCT FROM 'object' THEN
		PERFORM scim._fail(400, 'invalidSyntax', 'the request body must be a JSON object');
	END IF;
	-- readOnly attributes a client may send back are ignored (Okta sends groups, id)
	input := scim._strip_keys(body, ARRAY['id', 'meta', 'groups', 'schemas', 'members', 'password']);
	out := scim.patch('{}'::jsonb, jsonb_build_object(
		'schemas', '["urn:ietf:params:scim:api:messages:2.0:PatchOp"]'::jsonb,
		'Operations', jsonb_build_array(jsonb_build_object('op', 'replace', 'value', input))), rtype);
	-- the core schema first, then the extensions present
	SELECT t.schema INTO urn FROM scim.resource_type t WHERE t.name = rtype;
	out := out || jsonb_build_object('schemas', (
		SELECT jsonb_agg(s ORDER BY s <> urn, s) FROM (
			SELECT urn AS s
			UNION
			SELECT e.schema FROM scim.resource_type_extension e
			WHERE e.resource_type = rtype AND out ? e.schema) x));
	IF rtype = 'User' AND coalesce(out->>'userName', '') = '' THEN
		PERFORM scim._fail(400, 'invalidValue', 'userName is required');
	ELSIF rtype = 'Group' AND coalesce(out->>'displayName', '') = '' THEN
		PERFORM scim._fail(400, 'invalidValue', 'displayName is required');
	END IF;
	RETURN out;
END;
$$;
COMMENT ON FUNCTION scim._normalize(text, jsonb) IS
	'A POST or PUT body checked against the schema: canonical names, coerced types, read-only attributes dropped, userName or displayName required (internal)';

-- A password in a POST or PUT body, as stored: {"password": <SCRAM secret>}, or {}.
CREATE FUNCTION scim._password_member(rtype text, body jsonb) RETURNS jsonb
	LANGUAGE plpgsql
	AS $$
DECLARE
	pw jsonb := scim._body_member(body, 'password');
BEGIN
	IF rtype <> 'User' OR pw IS NULL THEN
		RETURN '{}'::jsonb;
	END IF;
	RETURN jsonb_build_object('password', scim._hash_password(pw #>> '{}'));
END;
$$;
COMMENT ON FUNCTION scim._password_member(text, jsonb) IS
	'The password a User''s POST or PUT body sends, hashed, as an object to merge into the stored resource (internal)';

-- The 409 for a userName or Group displayName that the tenant already has.
CREATE FUNCTION scim._fail_uniqueness(rtype text, doc jsonb) RETURNS void
	LANGUAGE plpgsql
	AS $$
BEGIN
	PERFORM scim._fail(409, 'uniqueness', CASE rtype WHEN 'User'
		THEN format('a User with userName "%s" already exists', doc->>'userName')
		ELSE format('a Group with displayName "%s" already exists', doc->>'displayName') END);
END;
$$;
COMMENT ON FUNCTION scim._fail_uniqueness(text, jsonb) IS
	'Raises the uniqueness error for a User or Group whose name the tenant already has (internal)';

CREATE FUNCTION scim._event(tenant uuid, kind text, rtype text, rid uuid, operation text, status integer,
							scim_type text DEFAULT NULL, detail text DEFAULT NULL)
	RETURNS void
	LANGUAGE sql VOLATILE
	AS $$
	INSERT INTO scim.event (tenant, kind, resource_type, resource_id, operation, status, scim_type, detail)
	VALUES (tenant, kind, rtype, rid, operation, status, scim_type, left(detail, 1000))
	$$;
COMMENT ON FUNCTION scim._event(uuid, text, text, uuid, text, integer, text, text) IS 'Appends to the event log (internal)';

-- Is members wanted in a Group response, given attributes / excludedAttributes?
CREATE FUNCTION scim._wants_members(q jsonb) RETURNS boolean
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$
	SELECT CASE
		WHEN q ? 'attributes' THEN EXISTS (
			SELECT 1 FROM regexp_split_to_table(lower(q->>'attributes'), '\s*,\s*') a
			WHERE a IN ('members', 'urn:ietf:params:scim:schemas:core:2.0:group:members')
			   OR a LIKE 'members.%' OR a LIKE 'urn:ietf:params:scim:schemas:core:2.0:group:members.%')
		WHEN q ? 'excludedattributes' THEN NOT EXISTS (
			SELECT 1 FROM regexp_split_to_table(lower(q->>'excludedattributes'), '\s*,\s*') a
			WHERE a IN ('members', 'urn:ietf:params:scim:schemas:core:2.0:group:members'))
		ELSE true END
	$$;
COMMENT ON FUNCTION scim._wants_members(jsonb) IS
	'Whether a Group response carries members: Entra ID reads with excludedAttributes=members, and then the membership table is not read (internal)';

-- Replace, add or remove members of a group: the membership table, not the document.
CREATE FUNCTION scim._set_members(tenant uuid, gid uuid, op text, members jsonb) RETURNS boolean
	LANGUAGE plpgsql VOLATILE
	AS $$
DECLARE
	m jsonb;
	v text;
	mtype text;
	n bigint;
	changed boolean := false;
BEGIN
	IF op = 'replace' THEN
		DELETE FROM scim.group_members g WHERE g.tenant = _set_members.tenant AND g.group_id = gid;
		GET DIAGNOSTICS n = ROW_COUNT;
		changed := n > 0;
	END IF;
	IF members IS NULL OR jsonb_typeof(members) = 'null' THEN
		RETURN changed;
	END IF;
	IF jsonb_typeof(members) <> 'array' THEN
		members := jsonb_build_array(members);
	END IF;
	FOR m IN SELECT * FROM jsonb_array_elements(members) LOOP
		v := CASE jsonb_typeof(m) WHEN 'object' THEN m->>'value' WHEN 'string' THEN m #>> '{}' END;
		IF v IS NULL THEN
			PERFORM scim._fail(400, 'invalidValue', 'each member needs a "value", the id of a User or Group');
		END IF;
		IF op = 'remove' THEN
			DELETE FROM scim.group_members g
			WHERE g.tenant = _set_members.tenant AND g.group_id = gid AND g.value = v;
			GET DIAGNOSTICS n = ROW_COUNT;
			changed := changed OR n > 0;
			CONTINUE;
		END IF;
		mtype := CASE
			WHEN v ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' AND EXISTS (
				SELECT 1 FROM scim.users u WHERE u.tenant = _set_members.tenant AND u.id = v::uuid) THEN 'User'
			WHEN v ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' AND EXISTS (
				SELECT 1 FROM scim.groups x WHERE x.tenant = _set_members.tenant AND x.id = v::uuid) THEN 'Group'
			END;
		IF mtype IS NULL THEN
			PERFORM scim._fail(400, 'invalidValue', format('member "%s" is not a User or Group of this tenant', v));
		END IF;
		INSERT INTO scim.group_members (tenant, group_id, value, type, display)
		VALUES (_set_members.tenant, gid, v, mtype, m->>'display')
		ON CONFLICT ON CONSTRAINT group_members_pkey DO NOTHING;
		GET DIAGNOSTICS n = ROW_COUNT;
		changed := changed OR n > 0;
	END LOOP;
	RETURN changed;
END;
$$;
COMMENT ON FUNCTION scim._set_members(uuid, uuid, text, jsonb) IS
	'Adds, removes or replaces group members in scim.group_members; each member must be a User or Group of the tenant; true if membership changed (internal)';

-- Apply the member operations of a Group PATCH to the membership table and
-- return the request without them, for scim.patch to apply to the document.
CREATE FUNCTION scim._patch_members(tenant uuid, gid uuid, INOUT request jsonb, OUT changed boolean)
	LANGUAGE plpgsql VOLATILE
	AS $$
DECLARE
	op jsonb;
	kind text;
	p text;
	rest jsonb := '[]';
	filter text;
	n bigint;
BEGIN
	changed := false;
	IF jsonb_typeof(request->'Operations') IS DISTINCT FROM 'array' THEN
		RETURN;					-- scim.patch reports what is wrong with it
	END IF;
	FOR op IN SELECT * FROM jsonb_array_elements(request->'Operations') LOOP
		kind := lower(op->>'op');
		p := op->>'path';
		IF kind IN ('add', 'remove', 'replace') AND p IS NOT NULL
		   AND lower(p) ~ '^(urn:ietf:params:scim:schemas:core:2\.0:group:)?members(\[|$)' THEN
			filter := substring(p from '\[(.*)\]$');
			IF filter IS NULL THEN
				IF kind = 'remove' AND NOT op ? 'value' THEN
					changed := scim._set_members(tenant, gid, 'replace', NULL) OR changed;
				ELSE
					changed := scim._set_members(tenant, gid, kind, op->'value') OR changed;
				END IF;
			ELSIF kind = 'remove' THEN
				-- members[value eq "id"] is an index lookup; other filters test each member
				IF filter ~* '^\s*value\s+eq\s+"[^"\\]*"\s*$' THEN
					DELETE FROM scim.group_members g
					WHERE g.tenant = _patch_members.tenant AND g.group_id = gid
					  AND g.value = substring(filter from '"([^"\\]*)"');
					GET DIAGNOSTICS n = ROW_COUNT;
					changed := changed OR n > 0;
				ELSE
					DELETE FROM scim.group_members g
					WHERE g.tenant = _patch_members.tenant AND g.group_id = gid
					  AND scim.matches(jsonb_build_object('members', jsonb_build_array(jsonb_strip_nulls(
							jsonb_build_object('value', g.value, 'type', g.type, 'display', g.display)))),
							'members[' || filter || ']', 'Group');
					GET DIAGNOSTICS n = ROW_COUNT;
					changed := changed OR n > 0;
				END IF;
			ELSE
				PERFORM scim._fail(400, 'invalidPath', format('path "%s": members are added without a filter and changed by removing and adding', p));
			END IF;
		ELSIF kind IN ('add', 'replace') AND p IS NULL AND jsonb_typeof(op->'value') = 'object'
			  AND scim._body_member(op->'value', 'members') IS NOT NULL THEN
			changed := scim._set_members(tenant, gid, kind, scim._body_member(op->'value', 'members')) OR changed;
			rest := rest || jsonb_build_array(op || jsonb_build_object('value',
				scim._strip_keys(op->'value', ARRAY['members'])));
		ELSE
			rest := rest || jsonb_build_array(op);
		END IF;
	END LOOP;
	request := request || jsonb_build_object('Operations', rest);
END;
$$;
COMMENT ON FUNCTION scim._patch_members(uuid, uuid, jsonb) IS
	'Applies the member operations of a Group PATCH to scim.group_members, O(log n) per member; returns the other operations (internal)';

-- The discovery documents (RFC 7644 section 4).
CREATE FUNCTION scim._service_provider_config(base text) RETURNS jsonb
	LANGUAGE sql STABLE
	AS $$
	SELECT jsonb_build_object(
		'schemas', '["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]'::jsonb,
		'documentationUri', 'https://github.com/scim-postgres/scim',
		'patch', '{"supported": true}'::jsonb,
		'bulk', '{"supported": false, "maxOperations": 0, "maxPayloadSize": 0}'::jsonb,
		'filter', jsonb_build_object('supported', true, 'maxResults', scim._max_results()),
		'changePassword', '{"supported": false}'::jsonb,
		'sort', '{"supported": true}'::jsonb,
		'etag', '{"supported": true}'::jsonb,
		'pagination', jsonb_build_object('cursor', true, 'index', true, 'defaultPaginationMethod', 'index',
										 'defaultPageSize', scim._default_count(), 'maxPageSize', scim._max_results(),
										 'cursorTimeout', scim._cursor_timeout()),
		'authenticationSchemes', '[{"type": "oauthbearertoken", "name": "OAuth Bearer Token", "description": "Authentication with a bearer token issued by scim.create_token()", "primary": true}]'::jsonb,
		'meta', jsonb_build_object('resourceType', 'ServiceProviderConfig', 'location', base || '/ServiceProviderConfig'))
	$$;
COMMENT ON FUNCTION scim._service_provider_config(text) IS 'The ServiceProviderConfig document (internal)';

CREATE FUNCTION scim._max_results() RETURNS integer
	LANGUAGE sql STABLE
	AS $$ SELECT coalesce(nullif(current_setting('scim.max_results', true), '')::integer, 1000) $$;
COMMENT ON FUNCTION scim._max_results() IS 'The largest page a list returns (setting scim.max_results, default 1000) (internal)';

CREATE FUNCTION scim._default_count() RETURNS integer
	LANGUAGE sql STABLE
	AS $$ SELECT least(coalesce(nullif(current_setting('scim.default_count', true), '')::integer, 100), scim._max_results()) $$;
COMMENT ON FUNCTION scim._default_count() IS 'The page size when a list names no count (setting scim.default_count, default 100) (internal)';

CREATE FUNCTION scim._schema_doc(urn text, base text) RETURNS jsonb
	LANGUAGE sql STABLE
	AS $$
	SELECT s.definition || jsonb_build_object(
		'schemas', '["urn:ietf:params:scim:schemas:core:2.0:Schema"]'::jsonb,
		'meta', jsonb_build_object('resourceType', 'Schema', 'location', base || '/Schemas/' || s.id))
	FROM scim.schema s WHERE s.id = urn
	$$;
COMMENT ON FUNCTION scim._schema_doc(text, text) IS 'A Schema document (internal)';

CREATE FUNCTION scim._resource_type_doc(name text, base text) RETURNS jsonb
	LANGUAGE sql STABLE
	AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object(
		'schemas', '["urn:ietf:params:scim:schemas:core:2.0:ResourceType"]'::jsonb,
		'id', t.name, 'name', t.name, 'endpoint', t.endpoint, 'description', t.description,
		'schema', t.schema,
		'schemaExtensions', coalesce((SELECT jsonb_agg(jsonb_build_object('schema', e.schema, 'required', e.required) ORDER BY e.schema)
									  FROM scim.resource_type_extension e WHERE e.resource_type = t.name), '[]'::jsonb),
		'meta', jsonb_build_object('resourceType', 'ResourceType', 'location', base || '/ResourceTypes/' || t.name)))
	FROM scim.resource_type t WHERE t.name = _resource_type_doc.name
	$$;
COMMENT ON FUNCTION scim._resource_type_doc(text, text) IS 'A ResourceType document (internal)';

CREATE FUNCTION scim._simple_eq(filter text, resource_type text) RETURNS text[]
	AS 'MODULE_PATHNAME', 'scim_simple_eq'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim._simple_eq(text, text) IS
	'{attribute, value} when a filter is one eq on a single-valued string attribute, else NULL (internal)';

CREATE FUNCTION scim._cursor_timeout() RETURNS integer
	LANGUAGE sql STABLE
	AS $$ SELECT coalesce(nullif(current_setting('scim.cursor_timeout', true), '')::integer, 3600) $$;
COMMENT ON FUNCTION scim._cursor_timeout() IS 'Seconds a cursor stays valid (setting scim.cursor_timeout, default 3600) (internal)';

-- A cursor (RFC 9865) is the position after the last row of a page, the
-- query it belongs to and when it was issued, base64url-encoded: opaque to
-- clients, and only ever a position within the caller's own tenant.
CREATE FUNCTION scim._cursor_encode(created timestamptz, id uuid, query_hash text) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$
	SELECT translate(replace(encode(convert_to(concat_ws('|', 'c1',
		(extract(epoch FROM created) * 1000000)::bigint, id, query_hash,
		extract(epoch FROM now())::bigint), 'UTF8'), 'base64'), E'\n', ''), '+/=', '-_')
	$$;
COMMENT ON FUNCTION scim._cursor_encode(timestamptz, uuid, text) IS 'A nextCursor value (internal)';

CREATE FUNCTION scim._cursor_decode(cursor text, query_hash text, OUT created timestamptz, OUT id uuid)
	LANGUAGE plpgsql STABLE
	AS $$
DECLARE
	parts text[];
	raw text;
BEGIN
	BEGIN
		raw := translate(cursor, '-_', '+/');
		raw := raw || repeat('=', (4 - length(raw) % 4) % 4);
		parts := string_to_array(convert_from(decode(raw, 'base64'), 'UTF8'), '|');
		IF cardinality(parts) <> 5 OR parts[1] <> 'c1' THEN
			RAISE EXCEPTION 'bad cursor';
		END IF;
		created := to_timestamp(parts[2]::numeric / 1000000);
		id := parts[3]::uuid;
	EXCEPTION WHEN OTHERS THEN
		PERFORM scim._fail(400, 'invalidCursor', 'the cursor is not one this service issued; start again with an empty cursor');
	END;
	IF parts[4] <> query_hash THEN
		PERFORM scim._fail(400, 'invalidCursor', 'the cursor belongs to a different query; repeat the query''s parameters unchanged');
	END IF;
	IF parts[5]::bigint < extract(epoch FROM now()) - scim._cursor_timeout() THEN
		PERFORM scim._fail(400, 'expiredCursor', format('the cursor has expired; cursors are valid for %s seconds', scim._cursor_timeout()));
	END IF;
END;
$$;
COMMENT ON FUNCTION scim._cursor_decode(text, text) IS 'The position a cursor stands for, or an invalidCursor / expiredCursor error (internal)';

-- A page of stored rows (as to_jsonb of the table's rows) as a ListResponse.
CREATE FUNCTION scim._page(rtype text, rows jsonb[], q jsonb, base text) RETURNS scim.response
	LANGUAGE plpgsql STABLE
	AS $$
DECLARE
	total integer := coalesce(cardinality(rows), 0);
	start_index bigint := 1;
	cnt bigint := scim._default_count();
	members boolean := rtype = 'Group' AND scim._wants_members(q);
BEGIN
	IF q ? 'startindex' THEN
		BEGIN
			start_index := greatest((q->>'startindex')::bigint, 1);
		EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
			PERFORM scim._fail(400, 'invalidValue', 'startIndex must be an integer');
		END;
	END IF;
	IF q ? 'count' THEN
		BEGIN
			cnt := least(greatest((q->>'count')::bigint, 0), scim._max_results());
		EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
			PERFORM scim._fail(400, 'invalidValue', 'count must be an integer');
		END;
	END IF;
	IF cnt = 0 OR start_index > total THEN
		-- an empty page still reports the total
		RETURN scim._response(200, scim.list_response(NULL::jsonb, total::bigint, start_index::integer));
	END IF;
	RETURN scim._response(200,
		(SELECT scim.list_response(scim.project(scim._present(rtype, (x->>'tenant')::uuid, (x->>'id')::uuid, x->'data', base, members),
											   q->>'attributes', q->>'excludedattributes', rtype), total, start_index::integer ORDER BY n)
		 FROM unnest(rows) WITH ORDINALITY AS u(x, n)
		 WHERE n >= start_index AND n < start_index + cnt));
END;
$$;
COMMENT ON FUNCTION scim._page(text, jsonb[], jsonb, text) IS 'A ListResponse of a page of the given rows (internal)';

-- GET list, or POST .search: filter, sort, page, project.  rtype NULL
-- searches Users and Groups together (POST /.search).
CREATE FUNCTION scim._list(rtype text, tenant uuid, q jsonb, base text) RETURNS scim.response
	LANGUAGE plpgsql STABLE
	AS $$
DECLARE
	types text[] := CASE WHEN rtype IS NULL THEN ARRAY['User', 'Group'] ELSE ARRAY[rtype] END;
	t text;
	parts text[] := '{}';
	keys text[] := '{}';
	skip text;
	cond text;
	sortkey text;
	err_state text;
	err_msg text;
	failed integer := 0;
	ord text := 'r.created, r.id';
	start_index bigint := 1;
	cnt bigint := scim._default_count();
	total bigint;
	result jsonb;
	cursor_mode boolean := q ? 'cursor';
	qhash text := left(md5(concat_ws('|', q->>'filter', q->>'sortby', q->>'sortorder')), 12);
	c_created timestamptz;
	c_id uuid;
	simple text[];
	rows jsonb[];
	last record;
	more boolean;
BEGIN
	-- the lookups identity providers make all day get statements planned once
	IF rtype IS NOT NULL AND q ? 'filter' AND NOT q ? 'sortby' AND NOT cursor_mode THEN
		simple := scim._simple_eq(q->>'filter', rtype);
		IF simple IS NOT NULL AND simple[1] IN ('userName', 'externalId', 'id', 'displayName') THEN
			IF rtype = 'User' THEN
				SELECT array_agg(to_jsonb(r) ORDER BY r.created, r.id) INTO rows FROM scim.users r
				WHERE r.tenant = _list.tenant AND CASE simple[1]
					WHEN 'userName' THEN lower(r.data->>'userName') = lower(simple[2])
					WHEN 'externalId' THEN (r.data->>'externalId') = simple[2]
					WHEN 'id' THEN (r.data->>'id') = simple[2]
					WHEN 'displayName' THEN lower(r.data->>'displayName') = lower(simple[2]) END;
			ELSE
				SELECT array_agg(to_jsonb(r) ORDER BY r.created, r.id) INTO rows FROM scim.groups r
				WHERE r.tenant = _list.tenant AND CASE simple[1]
					WHEN 'displayName' THEN lower(r.data->>'displayName') = lower(simple[2])
					WHEN 'externalId' THEN (r.data->>'externalId') = simple[2]
					WHEN 'id' THEN (r.data->>'id') = simple[2]
					WHEN 'userName' THEN lower(r.data->>'userName') = lower(simple[2]) END;
			END IF;
			RETURN scim._page(rtype, rows, q, base);
		END IF;
	END IF;

	-- one SELECT per resource type; a type whose schema lacks a filtered attribute matches nothing
	FOREACH t IN ARRAY types LOOP
		cond := '';
		sortkey := 'NULL::text';
		BEGIN
			IF q ? 'filter' THEN
				cond := ' AND ' || scim.filter_sql(q->>'filter', t, 'x.data');
			END IF;
			IF q ? 'sortby' THEN
				sortkey := scim.sort_sql(q->>'sortby', t, 'x.data');
			END IF;
		EXCEPTION WHEN OTHERS THEN
			IF rtype IS NOT NULL THEN
				RAISE;
			END IF;
			GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_msg = MESSAGE_TEXT;
			failed := failed + 1;
			CONTINUE;
		END;
		parts := parts || format('SELECT %L AS rtype, x.tenant, x.id, x.data, x.created, %s AS sortkey FROM %s x WHERE x.tenant = $1%s',
								 t, sortkey, CASE t WHEN 'User' THEN 'scim.users' ELSE 'scim.groups' END, cond);
		keys := keys || format('SELECT x.created, x.id FROM %s x WHERE x.tenant = $1%s',
							   CASE t WHEN 'User' THEN 'scim.users' ELSE 'scim.groups' END, cond);
	END LOOP;
	IF failed = cardinality(types) THEN
		PERFORM scim._fail(400, 'invalidFilter', err_msg);
	END IF;
	IF q ? 'sortby' THEN
		IF cursor_mode THEN
			PERFORM scim._fail(400, 'invalidValue', 'cursor pagination follows the default order; leave out sortBy or use startIndex');
		END IF;
		ord := 'r.sortkey' || CASE WHEN lower(coalesce(q->>'sortorder', 'ascending')) = 'descending'
								   THEN ' DESC NULLS FIRST' ELSE ' ASC NULLS LAST' END || ', r.created, r.id';
	END IF;
	IF q ? 'count' THEN
		BEGIN
			cnt := (q->>'count')::bigint;
		EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
			PERFORM scim._fail(400, CASE WHEN cursor_mode THEN 'invalidCount' ELSE 'invalidValue' END, 'count must be an integer');
		END;
		IF cursor_mode AND (cnt < 1 OR cnt > scim._max_results()) THEN
			PERFORM scim._fail(400, 'invalidCount', format('count must be between 1 and %s with a cursor', scim._max_results()));
		END IF;
		cnt := least(greatest(cnt, 0), scim._max_results());
	END IF;
	IF q ? 'startindex' AND NOT cursor_mode THEN
		BEGIN
			start_index := greatest((q->>'startindex')::bigint, 1);
		EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
			PERFORM scim._fail(400, 'invalidValue', 'startIndex must be an integer');
		END;
	END IF;

	EXECUTE format('SELECT count(*) FROM (%s) r', array_to_string(parts, ' UNION ALL ')) INTO total USING tenant;

	IF NOT cursor_mode THEN
		IF cnt = 0 OR start_index > total THEN
			result := scim.list_response(NULL::jsonb, total, start_index::integer);
		ELSE
			-- Okta pages through every user by startIndex: in the default order,
			-- skip to the page over (created, id) alone, which an index-only scan
			-- gives without reading the documents, and read only the page's rows
			IF start_index > 1 AND NOT q ? 'sortby' THEN
				skip := format('WHERE (r.created, r.id) >= (SELECT k.created, k.id FROM (%s) k ORDER BY k.created, k.id OFFSET $6 LIMIT 1)',
							   array_to_string(keys, ' UNION ALL '));
			ELSE
				skip := '';
			END IF;
			EXECUTE format('SELECT scim.list_response(scim.project(scim._present(r.rtype, r.tenant, r.id, r.data, $2,
									CASE WHEN r.rtype = ''Group'' THEN scim._wants_members($3) ELSE false END),
								$3->>''attributes'', $3->>''excludedattributes'', r.rtype), $4, $5 ORDER BY %s)
							FROM (SELECT * FROM (%s) r %s ORDER BY %s %s LIMIT $7) r',
						   ord, array_to_string(parts, ' UNION ALL '), skip, ord,
						   CASE WHEN skip = '' THEN 'OFFSET $6' ELSE '' END)
				INTO result
				USING tenant, base, q, total, start_index::integer, start_index - 1, cnt;
			-- rows deleted since the count can leave the page empty
			result := coalesce(result, scim.list_response(NULL::jsonb, total, start_index::integer));
		END IF;
		RETURN scim._response(200, result);
	END IF;

	-- cursor pagination (RFC 9865): keyset on (created, id), one row more to know if a page follows
	IF coalesce(q->>'cursor', '') <> '' THEN
		SELECT d.created, d.id INTO c_created, c_id FROM scim._cursor_decode(q->>'cursor', qhash) d;
	END IF;
	EXECUTE format('SELECT array_agg(to_jsonb(r) ORDER BY r.created, r.id)
					FROM (SELECT * FROM (%s) r WHERE $2::timestamptz IS NULL OR (r.created, r.id) > ($2, $3)
						  ORDER BY r.created, r.id LIMIT $4) r',
				   array_to_string(parts, ' UNION ALL '))
		INTO rows USING tenant, c_created, c_id, cnt + 1;
	more := coalesce(cardinality(rows), 0) > cnt;
	IF more THEN
		rows := rows[1:cnt];
	END IF;
	SELECT scim.list_response(scim.project(scim._present(x->>'rtype', (x->>'tenant')::uuid, (x->>'id')::uuid, x->'data', base,
							CASE WHEN x->>'rtype' = 'Group' THEN scim._wants_members(q) ELSE false END),
						q->>'attributes', q->>'excludedattributes', x->>'rtype'), total, 1 ORDER BY n)
		INTO result FROM unnest(rows) WITH ORDINALITY AS u(x, n);
	result := coalesce(result, scim.list_response(NULL::jsonb, total, 1)) - 'startIndex';
	IF more THEN
		last := jsonb_populate_record(NULL::scim.users, rows[cnt]);
		result := result || jsonb_build_object('nextCursor', scim._cursor_encode(last.created, last.id, qhash));
	END IF;
	RETURN scim._response(200, result);
END;
$$;
COMMENT ON FUNCTION scim._list(text, uuid, jsonb, text) IS
	'A list or search request: index pagination (startIndex, count) or cursor pagination (RFC 9865); NULL rtype searches Users and Groups (internal)';

-- Create, replace, patch, read, delete one resource.
CREATE FUNCTION scim._resource(method text, rtype text, tenant uuid, rid text, q jsonb, headers jsonb, body text, base text)
	RETURNS scim.response
	LANGUAGE plpgsql VOLATILE
	AS $$
DECLARE
	endpoint text := CASE rtype WHEN 'User' THEN '/Users/' ELSE '/Groups/' END;
	res_id uuid;
	cur record;
	doc jsonb;
	req jsonb;
	newdata jsonb;
	ts timestamptz := clock_timestamp();
	now_ts text := to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
	members_changed boolean := false;
	pm record;
	resp_status integer;
	etag text;
	members boolean := rtype = 'Group' AND scim._wants_members(q);
	kind text;
	op text := method || ' ' || CASE WHEN rid IS NULL THEN rtrim(endpoint, '/') ELSE endpoint || rid END;
BEGIN
	IF method IN ('POST', 'PUT', 'PATCH') THEN
		BEGIN
			req := body::jsonb;
		EXCEPTION WHEN invalid_text_representation OR untranslatable_character THEN
			PERFORM scim._fail(400, 'invalidSyntax', 'the request body is not valid JSON: ' || SQLERRM);
		WHEN numeric_value_out_of_range THEN
			PERFORM scim._fail(400, 'invalidValue', 'the request body holds a number that cannot be stored: ' || SQLERRM);
		END;
		IF req IS NULL THEN
			PERFORM scim._fail(400, 'invalidSyntax', 'the request has no body');
		END IF;
	END IF;

	IF method = 'POST' THEN
		doc := scim._normalize(rtype, req) || scim._password_member(rtype, req);
		res_id := gen_random_uuid();
		doc := doc || jsonb_build_object('id', res_id::text, 'meta', jsonb_build_object(
			'resourceType', rtype, 'created', now_ts, 'lastModified', now_ts, 'version', 'W/"1"'));
		BEGIN
			-- static statements: PL/pgSQL plans them once, EXECUTE would plan every time
			IF rtype = 'User' THEN
				INSERT INTO scim.users (tenant, id, data, created, last_modified) VALUES (_resource.tenant, res_id, doc, ts, ts);
			ELSE
				INSERT INTO scim.groups (tenant, id, data, created, last_modified) VALUES (_resource.tenant, res_id, doc, ts, ts);
			END IF;
		EXCEPTION WHEN unique_violation THEN
			PERFORM scim._fail_uniqueness(rtype, doc);
		END;
		IF rtype = 'Group' THEN
			PERFORM scim._set_members(tenant, res_id, 'add', scim._body_member(req, 'members'));
		END IF;
		-- Okta and Entra send members with the POST; they come back as stored
		PERFORM scim._event(tenant, 'created', rtype, res_id, op, 201);
		RETURN scim._response(201,
			scim.project(scim._present(rtype, tenant, res_id, doc, base, members), q->>'attributes', q->>'excludedattributes', rtype),
			jsonb_build_object('location', base || endpoint || res_id::text, 'etag', 'W/"1"'));
	END IF;

	-- the rest address an existing resource by id
	IF rid !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
		PERFORM scim._fail(404, NULL, format('%s "%s" not found', rtype, rid));
	END IF;
	res_id := rid::uuid;
	IF method = 'GET' AND rtype = 'User' THEN
		SELECT u.data, u.version, u.created INTO cur FROM scim.users u WHERE u.tenant = _resource.tenant AND u.id = res_id;
	ELSIF method = 'GET' THEN
		SELECT g.data, g.version, g.created INTO cur FROM scim.groups g WHERE g.tenant = _resource.tenant AND g.id = res_id;
	ELSIF rtype = 'User' THEN
		SELECT u.data, u.version, u.created INTO cur FROM scim.users u WHERE u.tenant = _resource.tenant AND u.id = res_id
			FOR UPDATE;
	ELSE
		SELECT g.data, g.version, g.created INTO cur FROM scim.groups g WHERE g.tenant = _resource.tenant AND g.id = res_id
			FOR UPDATE;
	END IF;
	IF cur IS NULL THEN
		PERFORM scim._fail(404, NULL, format('%s "%s" not found', rtype, rid));
	END IF;
	etag := 'W/"' || cur.version || '"';

	IF method IN ('PUT', 'PATCH', 'DELETE') AND headers ? 'if-match'
	   AND headers->>'if-match' <> '*' AND NOT etag = ANY (regexp_split_to_array(headers->>'if-match', '\s*,\s*')) THEN
		PERFORM scim._fail(412, NULL, format('the resource has version %s, not %s', etag, headers->>'if-match'));
	END IF;

	IF method = 'GET' THEN
		IF headers ? 'if-none-match' AND etag = ANY (regexp_split_to_array(headers->>'if-none-match', '\s*,\s*')) THEN
			RETURN scim._response(304, NULL, jsonb_build_object('etag', etag));
		END IF;
		RETURN scim._response(200,
			scim.project(scim._present(rtype, tenant, res_id, cur.data, base, members), q->>'attributes', q->>'excludedattributes', rtype),
			jsonb_build_object('etag', etag));
	END IF;

	IF method = 'DELETE' THEN
		IF rtype = 'User' THEN
			DELETE FROM scim.users u WHERE u.tenant = _resource.tenant AND u.id = res_id;
		ELSE
			DELETE FROM scim.groups g WHERE g.tenant = _resource.tenant AND g.id = res_id;
		END IF;
		-- a deleted user or group is a member nowhere any more
		DELETE FROM scim.group_members m WHERE m.tenant = _resource.tenant AND m.value = res_id::text;
		PERFORM scim._event(tenant, 'deleted', rtype, res_id, op, 204);
		RETURN scim._response(204, NULL);
	END IF;

	IF method = 'PUT' THEN
		-- readOnly id and meta stay; a password is only replaced when one is sent
		newdata := scim._normalize(rtype, req) || jsonb_build_object('id', res_id::text, 'meta', cur.data->'meta')
			|| CASE WHEN cur.data ? 'password' THEN jsonb_build_object('password', cur.data->'password') ELSE '{}' END
			|| scim._password_member(rtype, req);
		IF rtype = 'Group' AND scim._body_member(req, 'members') IS NOT NULL THEN
			members_changed := scim._set_members(tenant, res_id, 'replace', scim._body_member(req, 'members'));
		END IF;
	ELSE
		IF rtype = 'Group' THEN
			pm := scim._patch_members(tenant, res_id, req);
			req := pm.request;
			members_changed := pm.changed;
		END IF;
		IF jsonb_array_length(coalesce(req->'Operations', '[]')) > 0 OR rtype = 'User' THEN
			newdata := scim.patch(cur.data, req, rtype);
		ELSE
			newdata := cur.data;
		END IF;
	END IF;

	-- Entra ID expects 204 for group PATCH and needs no body; asked-for attributes need 200
	resp_status := CASE WHEN method = 'PATCH' AND rtype = 'Group' AND NOT (q ? 'attributes' OR q ? 'excludedattributes')
						THEN 204 ELSE 200 END;
	IF newdata IS DISTINCT FROM cur.data OR members_changed THEN
		newdata := jsonb_set(jsonb_set(newdata, '{meta,lastModified}', to_jsonb(now_ts)),
							 '{meta,version}', to_jsonb('W/"' || (cur.version + 1) || '"'));
		BEGIN
			IF rtype = 'User' THEN
				UPDATE scim.users u SET data = newdata, version = u.version + 1, last_modified = ts
				WHERE u.tenant = _resource.tenant AND u.id = res_id;
			ELSE
				UPDATE scim.groups g SET data = newdata, version = g.version + 1, last_modified = ts
				WHERE g.tenant = _resource.tenant AND g.id = res_id;
			END IF;
		EXCEPTION WHEN unique_violation THEN
			PERFORM scim._fail_uniqueness(rtype, newdata);
		END;
		etag := 'W/"' || (cur.version + 1) || '"';
		kind := CASE
			WHEN coalesce(cur.data->>'active', 'true') = 'true' AND newdata->>'active' = 'false' THEN 'suspended'
			WHEN cur.data->>'active' = 'false' AND coalesce(newdata->>'active', 'true') = 'true' THEN 'unsuspended'
			ELSE 'updated' END;
		PERFORM scim._event(tenant, kind, rtype, res_id, op, resp_status);
	ELSE
		newdata := cur.data;
	END IF;

	IF resp_status = 204 THEN
		RETURN scim._response(204, NULL, jsonb_build_object('etag', etag));
	END IF;
	RETURN scim._response(200,
		scim.project(scim._present(rtype, tenant, res_id, newdata, base, members), q->>'attributes', q->>'excludedattributes', rtype),
		jsonb_build_object('etag', etag));
END;
$$;
COMMENT ON FUNCTION scim._resource(text, text, uuid, text, jsonb, jsonb, text, text) IS
	'POST, GET, PUT, PATCH or DELETE of one User or Group (internal)';

-- A SearchRequest body (RFC 7644 section 3.4.3) as query parameters; lists are comma-joined.
CREATE FUNCTION scim._search_request(body text) RETURNS jsonb
	LANGUAGE plpgsql IMMUTABLE
	AS $$
DECLARE
	sreq jsonb;
BEGIN
	BEGIN
		sreq := body::jsonb;
	EXCEPTION WHEN invalid_text_representation OR untranslatable_character THEN
		PERFORM scim._fail(400, 'invalidSyntax', 'the request body is not valid JSON: ' || SQLERRM);
	WHEN numeric_value_out_of_range THEN
		PERFORM scim._fail(400, 'invalidValue', 'the request body holds a number that cannot be stored: ' || SQLERRM);
	END;
	IF jsonb_typeof(sreq) IS DISTINCT FROM 'object' THEN
		PERFORM scim._fail(400, 'invalidSyntax', 'a SearchRequest must be a JSON object');
	END IF;
	RETURN (SELECT coalesce(jsonb_object_agg(lower(key),
				CASE jsonb_typeof(value) WHEN 'array' THEN (SELECT string_agg(x, ',') FROM jsonb_array_elements_text(value) x)
										 ELSE value #>> '{}' END), '{}'::jsonb)
			FROM jsonb_each(sreq) WHERE lower(key) <> 'schemas' AND jsonb_typeof(value) <> 'null');
END;
$$;
COMMENT ON FUNCTION scim._search_request(text) IS 'The parameters of a SearchRequest body (internal)';

CREATE FUNCTION scim._body_jsonb(body text) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_body_jsonb'
	LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION scim._body_jsonb(text) IS
	'A request body as scim.handle() reads it for a PATCH, NULL where it leaves the body to scim._handle(); for tests against jsonb_in() (internal)';

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

-- Every request the C handler (scim.handle, below) leaves: all but the
-- lookups, reads and user PATCHes it answers, and every one that fails.
CREATE FUNCTION scim._handle(method text, path text, query text, headers jsonb, body text)
	RETURNS scim.response
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m text := upper(coalesce(method, ''));
	h jsonb := coalesce(headers, '{}');
	q jsonb;
	base text := scim._base_url(coalesce(headers, '{}'));
	seg text[];
	tenant uuid;
	auth text;
	rtype text;
	res scim.response;
	st text;
	msg text;
	status integer;
	stype text;
BEGIN
	BEGIN
		q := scim.parse_query(coalesce(query, ''));
		-- authentication: Authorization: Bearer <token>
		auth := h->>'authorization';
		IF auth IS NOT NULL AND auth ~* '^bearer\s+' THEN
			tenant := scim._authenticate(regexp_replace(auth, '^[Bb][Ee][Aa][Rr][Ee][Rr]\s+', ''));
		END IF;
		IF tenant IS NULL THEN
			RETURN scim._response(401, scim.error(401, NULL, 'a valid bearer token is required'),
								  '{"www-authenticate": "Bearer realm=\"scim\""}');
		END IF;
		PERFORM set_config('scim.tenant', tenant::text, true);

		seg := array_remove(string_to_array(trim(both '/' from split_part(coalesce(path, ''), '?', 1)), '/'), '');
		IF cardinality(seg) = 0 THEN
			PERFORM scim._fail(404, NULL, 'no resource at the SCIM base; try /Users, /Groups or /ServiceProviderConfig');
		END IF;

		CASE lower(seg[1])
		WHEN 'serviceproviderconfig', 'schemas', 'resourcetypes' THEN
			IF m <> 'GET' THEN
				PERFORM scim._fail(405, NULL, format('%s is not allowed on /%s', m, seg[1]));
			END IF;
			IF q ? 'filter' THEN
				PERFORM scim._fail(403, NULL, 'discovery endpoints cannot be filtered (RFC 7644 section 4)');
			END IF;
			IF lower(seg[1]) = 'serviceproviderconfig' THEN
				IF cardinality(seg) > 1 THEN
					PERFORM scim._fail(404, NULL, 'no such resource');
				END IF;
				RETURN scim._response(200, scim._service_provider_config(base));
			ELSIF lower(seg[1]) = 'schemas' THEN
				IF cardinality(seg) > 1 THEN
					res := scim._response(200, (SELECT scim._schema_doc(s.id, base) FROM scim.schema s
												WHERE lower(s.id) = lower(seg[2])
												  AND (s.id IN (SELECT t.schema FROM scim.resource_type t)
													   OR s.id IN (SELECT e.schema FROM scim.resource_type_extension e))));
					IF res.body IS NULL THEN
						PERFORM scim._fail(404, NULL, format('schema "%s" not found', seg[2]));
					END IF;
					RETURN res;
				END IF;
				RETURN scim._response(200, (SELECT scim.list_response(scim._schema_doc(s.id, base) ORDER BY s.id)
											FROM scim.schema s
											WHERE s.id IN (SELECT t.schema FROM scim.resource_type t)
											   OR s.id IN (SELECT e.schema FROM scim.resource_type_extension e)));
			ELSE
				IF cardinality(seg) > 1 THEN
					res := scim._response(200, (SELECT scim._resource_type_doc(t.name, base) FROM scim.resource_type t
												WHERE lower(t.name) = lower(seg[2])));
					IF res.body IS NULL THEN
						PERFORM scim._fail(404, NULL, format('resource type "%s" not found', seg[2]));
					END IF;
					RETURN res;
				END IF;
				RETURN scim._response(200, (SELECT scim.list_response(scim._resource_type_doc(t.name, base) ORDER BY t.name)
											FROM scim.resource_type t));
			END IF;
		WHEN 'users', 'groups' THEN
			rtype := CASE lower(seg[1]) WHEN 'users' THEN 'User' ELSE 'Group' END;
			IF cardinality(seg) > 2 THEN
				PERFORM scim._fail(404, NULL, 'no such resource');
			END IF;
			IF cardinality(seg) = 2 AND seg[2] = '.search' THEN
				IF m <> 'POST' THEN
					PERFORM scim._fail(405, NULL, format('%s is not allowed on /%s/.search', m, seg[1]));
				END IF;
				RETURN scim._list(rtype, tenant, scim._search_request(body), base);
			END IF;
			IF cardinality(seg) = 1 THEN
				IF m = 'GET' THEN
					RETURN scim._list(rtype, tenant, q, base);
				ELSIF m = 'POST' THEN
					RETURN scim._resource('POST', rtype, tenant, NULL, q, h, body, base);
				END IF;
				PERFORM scim._fail(405, NULL, format('%s is not allowed on /%s', m, seg[1]));
			END IF;
			IF m NOT IN ('GET', 'PUT', 'PATCH', 'DELETE') THEN
				PERFORM scim._fail(405, NULL, format('%s is not allowed on /%s/{id}', m, seg[1]));
			END IF;
			RETURN scim._resource(m, rtype, tenant, seg[2], q, h, body, base);
		WHEN '.search' THEN
			IF m <> 'POST' OR cardinality(seg) > 1 THEN
				PERFORM scim._fail(405, NULL, format('%s is not allowed on /.search', m));
			END IF;
			RETURN scim._list(NULL, tenant, scim._search_request(body), base);
		ELSE
			PERFORM scim._fail(404, NULL, format('no resource type at /%s', seg[1]));
		END CASE;
		RETURN scim._response(500, scim.error(500, NULL, 'request not routed'));
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
		SELECT c.http_status, c.scim_type INTO status, stype FROM scim.error_codes() c WHERE c.sqlstate = st;
		IF status IS NULL THEN
			status := CASE
				WHEN st LIKE 'SH%' THEN substr(st, 3)::integer
				WHEN st = '23505' THEN 409
				WHEN st IN ('22P02', '22P05', '2202E', '22023', '54001', '54000') THEN 400
				ELSE 500 END;
			stype := CASE WHEN st = '23505' THEN 'uniqueness' WHEN status = 400 THEN 'invalidValue' END;
		END IF;
		IF status = 500 THEN
			-- keep internals out of the answer, in the server log
			RAISE WARNING 'scim.handle: % % failed: % (SQLSTATE %)', m, path, msg, st;
			msg := 'internal error';
		END IF;
		IF tenant IS NOT NULL THEN
			-- the failed block's SET LOCAL is undone with it: act for the tenant again
			PERFORM set_config('scim.tenant', tenant::text, true);
			PERFORM scim._event(tenant, 'failed', rtype, NULL, m || ' ' || coalesce(path, ''), status, stype, msg);
		END IF;
		RETURN scim._response(status, scim.error(status, stype, msg));
	END;
END;
$$;
COMMENT ON FUNCTION scim._handle(text, text, text, jsonb, text) IS
	'Answers one SCIM request, as scim.handle() does, in PL/pgSQL; scim.handle() calls it for what it does not answer itself (internal)';

-- The lookups, reads and PATCHes identity providers make all day, in C with
-- statements planned once; the rest through scim._handle().
CREATE FUNCTION scim.handle(method text, path text, query text DEFAULT NULL,
							headers jsonb DEFAULT '{}', body text DEFAULT NULL)
	RETURNS scim.response
	AS 'MODULE_PATHNAME', 'scim_handle'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim.handle(text, text, text, jsonb, text) IS
	'Answers one SCIM request (RFC 7644): /Users, /Groups, their /.search, /ServiceProviderConfig, /Schemas, /ResourceTypes; path is relative to the SCIM base, headers have lower-case names';

-- The same answer as text, for HTTP layers that write it out as it is:
-- the fast path writes its documents as text directly, where casting
-- scim.handle()'s jsonb would build each document only to print it.
CREATE FUNCTION scim.handle_text(method text, path text, query text DEFAULT NULL,
								 headers jsonb DEFAULT '{}', body text DEFAULT NULL)
	RETURNS scim.response_text
	AS 'MODULE_PATHNAME', 'scim_handle_text'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim.handle_text(text, text, text, jsonb, text) IS
	'scim.handle() with the response''s headers and body as JSON text, exactly as their ::text casts would give them; what scim-server calls';
