/*
** libFuzzer target: the .info parser.  Any input either fails with a
** message or gives an object whose .info text parses again to the same
** text (format and parse agree), and any JSON that parses re-serialises
** to text that parses to the same serialisation.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  spy_err err = {0};
  cJSON *v = NULL;
  if (spy_json_parse((const char *)data, size, &v, &err) == SPY_OK) {
    char *a = spy_json_dump(v, 4);
    cJSON *w = NULL;
    if (!a || spy_json_parse(a, strlen(a), &w, &err) != SPY_OK) {
      fprintf(stderr, "dump does not parse: %s\n", err.msg);
      abort();
    }
    char *b = spy_json_dump(w, 4);
    if (!b || strcmp(a, b) != 0) abort();
    free(a);
    free(b);
    cJSON_Delete(w);
    cJSON_Delete(v);
  } else if (!err.msg[0]) {
    abort(); /* every failure says why */
  }

  spy_data *d = NULL;
  spy_info_hdr h;
  if (spy_info_parse((const char *)data, size, "fuzz.info", &d, &h, &err) == SPY_OK) {
    char *text = spy_info_format(d, &h);
    spy_data *e = NULL;
    spy_info_hdr h2;
    if (!text || spy_info_parse(text, strlen(text), "again.info", &e, &h2, &err) != SPY_OK) {
      fprintf(stderr, "formatted .info does not parse: %s\n", err.msg);
      abort();
    }
    char *again = spy_info_format(e, &h2);
    if (!again || strcmp(text, again) != 0) abort();
    free(text);
    free(again);
    spy_data_unref(e);
    spy_info_hdr_free(&h2);
    spy_data_unref(d);
    spy_info_hdr_free(&h);
  } else if (!err.msg[0]) {
    abort();
  }
  return 0;
}
