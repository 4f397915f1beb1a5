/* json.h - just enough JSON writing for the CLI's --json output. */
#ifndef CR_JSON_H
#define CR_JSON_H

#include <stdio.h>

/* Writes s as a JSON string literal, escaping quotes, backslashes and
 * control characters; invalid UTF-8 bytes become U+FFFD. */
void json_write_string(FILE *f, const char *s);
/* Writes a finite number, or null for NaN/infinity. */
void json_write_number(FILE *f, double v);

#endif
