/* SPDX-License-Identifier: BSD-2-Clause */
/* Strict JSON with json-c, as the description and the control API both read it. */
#ifndef WARD_DESC_JSON_STRICT_H
#define WARD_DESC_JSON_STRICT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Parses len bytes of text in json-c's strict mode with UTF-8 checks.
 * Returns the value (the caller puts it), or NULL; *jerr says how the parse
 * ended and *end where; *oom is true when memory ran out.
 */
struct json_object *ward_json_parse_strict(const char *text, size_t len,
                                           enum json_tokener_error *jerr, size_t *end, bool *oom);

#endif
