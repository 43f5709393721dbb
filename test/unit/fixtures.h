/*
 * fixtures.h
 *		The built-in registry (from the JSON files in src/schemas) for core tests.
 */
#ifndef SCIM_FIXTURES_H
#define SCIM_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>

#include "schema.h"

#ifndef SCIM_SOURCE_DIR
#define SCIM_SOURCE_DIR "."
#endif

#define USER_URN "urn:ietf:params:scim:schemas:core:2.0:User"
#define GROUP_URN "urn:ietf:params:scim:schemas:core:2.0:Group"
#define ENTERPRISE_URN "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

/* Read a whole file into a malloc'ed NUL-terminated buffer, or die. */
static char *
fixture_read(const char *name, size_t *len)
{
	char		path[1024];
	FILE	   *fp;
	char	   *buf;
	long		n;

	snprintf(path, sizeof(path), "%s/src/schemas/%s", SCIM_SOURCE_DIR, name);
	fp = fopen(path, "rb");
	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0)
	{
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	buf = malloc((size_t) n + 1);
	if (buf == NULL || fread(buf, 1, (size_t) n, fp) != (size_t) n)
		exit(2);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t) n;
	return buf;
}

/* The registry as CREATE EXTENSION sets it up: User (+ enterprise), Group. */
static ScimRegistry *
fixture_registry(void)
{
	static const char *const schemas[] = {"user.json", "group.json", "enterprise_user.json"};
	ScimError	err;
	ScimRegistry *reg = ScimRegistryCreate(&err);
	size_t		len;
	char	   *json;

	if (reg == NULL)
		goto fail;

	json = fixture_read("common.json", &len);
	if (!ScimRegistrySetCommon(reg, json, len, &err))
		goto fail;
	free(json);
	for (int i = 0; i < 3; i++)
	{
		json = fixture_read(schemas[i], &len);
		if (ScimRegistryAddSchema(reg, json, len, &err) == NULL)
			goto fail;
		free(json);
	}
	if (!ScimRegistryAddResourceType(reg, "User", "/Users", "User Account", USER_URN, &err) ||
		!ScimRegistryAddResourceType(reg, "Group", "/Groups", "Group", GROUP_URN, &err) ||
		!ScimRegistryAddExtension(reg, "User", ENTERPRISE_URN, false, &err))
		goto fail;
	return reg;

fail:
	fprintf(stderr, "fixture registry: %s\n", err.message);
	exit(2);
}

#endif
