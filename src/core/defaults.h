/*
 * defaults.h
 *		Defaults that the extension and scim-server must agree on, in one
 *		place.
 */
#ifndef SCIM_DEFAULTS_H
#define SCIM_DEFAULTS_H

/*
 * scim.request_timeout, in milliseconds: the extension's deadline for one
 * scim.handle() call, and what scim-server assumes when its session cannot
 * see the setting yet (before the extension's library is loaded).
 */
#define SCIM_REQUEST_TIMEOUT_DEFAULT_MS 10000

#endif
