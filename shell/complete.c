/*
** Completion candidates for the REPL (see shell.h for the contract).
**
** The text before the cursor is read with a small Lua lexer that tracks
** open brackets, so the completer knows whether the word is
**   - a name chain (globals, a.b.c fields, obj:method through __index), or
**   - a key of an option table passed to a spy function
**     (spy.freqanalysis(data, {ta| ), or
**   - inside a string: a keyword's allowed value ({method="mt| ) or a path.
** Keyword names and values come from spy._spec, the same spec that
** validates the call and that help() prints.
*/
#include <ctype.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"

#define MAXDEPTH 64 /* bracket nesting tracked by the lexer */
#define MAXCHAIN 8  /* __index tables followed before giving up (loops) */

static const char *const reserved[] = {"and",   "break", "do",       "else",  "elseif", "end",
                                       "false", "for",   "function", "goto",  "if",     "in",
                                       "local", "nil",   "not",      "or",    "repeat", "return",
                                       "then",  "true",  "until",    "while", NULL};

static int isreserved(const char *s, size_t n)
{
  for (const char *const *r = reserved; *r; r++)
    if (strlen(*r) == n && memcmp(*r, s, n) == 0) return 1;
  return 0;
}

static int isident(const char *s, size_t n)
{
  if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return 0;
  for (size_t i = 1; i < n; i++)
    if (!(isalnum((unsigned char)s[i]) || s[i] == '_')) return 0;
  return !isreserved(s, n);
}

/* Adds a candidate made of a (na bytes) followed by b (nb bytes); raises
** a Lua memory error on failure (we run inside a protected call). */
static void add(lua_State *L, spy_cands *c, const char *a, size_t na, const char *b, size_t nb)
{
  if (c->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 32;
    char **v = realloc(c->v, cap * sizeof *v);
    if (!v) luaL_error(L, "not enough memory");
    c->v = v;
    c->cap = cap;
  }
  char *s = malloc(na + nb + 1);
  if (!s) luaL_error(L, "not enough memory");
  memcpy(s, a, na);
  memcpy(s + na, b, nb);
  s[na + nb] = '\0';
  c->v[c->n++] = s;
}

void spy_cands_free(spy_cands *c)
{
  for (size_t i = 0; i < c->n; i++)
    free(c->v[i]);
  free(c->v);
  memset(c, 0, sizeof *c);
}

/*
** {======================================================
** A lexer just good enough to find brackets, names and '='
** =======================================================
*/

enum { T_EOF, T_NAME, T_STRING, T_OTHER };

typedef struct token {
  int type;
  size_t pos, len;
} token;

/* Level of a long bracket [==[ starting at s[i] == '[', or -1. */
static int longlevel(const char *s, size_t n, size_t i)
{
  size_t j = i + 1;
  while (j < n && s[j] == '=')
    j++;
  return (j < n && s[j] == '[') ? (int)(j - i - 1) : -1;
}

/* Index after the long string/comment of the given level opened at i. */
static size_t skiplong(const char *s, size_t n, size_t i, int level)
{
  for (i += (size_t)level + 2; i < n; i++) {
    if (s[i] != ']') continue;
    size_t j = i + 1;
    while (j < n && s[j] == '=')
      j++;
    if (j < n && s[j] == ']' && (int)(j - i - 1) == level) return j + 1;
  }
  return n;
}

/* Reads the token at or after s[i]; returns the index after it. */
static size_t lex(const char *s, size_t n, size_t i, token *t)
{
  for (;;) {
    while (i < n && isspace((unsigned char)s[i]))
      i++;
    if (i + 1 < n && s[i] == '-' && s[i + 1] == '-') { /* comment */
      int lv = (i + 2 < n && s[i + 2] == '[') ? longlevel(s, n, i + 2) : -1;
      if (lv >= 0) {
        i = skiplong(s, n, i + 2, lv);
      } else {
        while (i < n && s[i] != '\n')
          i++;
      }
      continue;
    }
    break;
  }
  t->pos = i;
  if (i >= n) {
    t->type = T_EOF;
    t->len = 0;
    return n;
  }
  size_t j = i + 1;
  unsigned char c = (unsigned char)s[i];
  if (isalpha(c) || c == '_') {
    while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '_'))
      j++;
    t->type = T_NAME;
  } else if (isdigit(c)) {
    while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '.' || s[j] == '_'))
      j++;
    t->type = T_OTHER;
  } else if (c == '"' || c == '\'') {
    while (j < n && s[j] != (char)c && s[j] != '\n')
      j += (s[j] == '\\') ? 2 : 1;
    if (j < n) j++;
    t->type = T_STRING;
  } else if (c == '[' && longlevel(s, n, i) >= 0) {
    j = skiplong(s, n, i, longlevel(s, n, i));
    t->type = T_STRING;
  } else {
    if (j < n && s[j] == '=' && strchr("=~<>", c)) j++; /* ==, ~=, <=, >= */
    t->type = T_OTHER;
  }
  if (j > n) j = n;
  t->len = j - i;
  return j;
}

static int isop(const char *s, const token *t, char c)
{
  return t->type == T_OTHER && t->len == 1 && s[t->pos] == c;
}

/* An open bracket: its character, where it is, and where its current
** item (the text after the last top-level ',' or ';') starts. */
typedef struct bracket {
  char open;
  size_t pos, item;
} bracket;

typedef struct context {
  bracket b[MAXDEPTH];
  int n;        /* open brackets tracked */
  int overflow; /* nesting deeper than MAXDEPTH: give up on context */
} context;

static void scan(const char *s, size_t n, context *cx)
{
  token t;
  int depth = 0;
  cx->n = 0;
  cx->overflow = 0;
  for (size_t i = lex(s, n, 0, &t); t.type != T_EOF; i = lex(s, n, i, &t)) {
    if (t.type != T_OTHER || t.len != 1) continue;
    char c = s[t.pos];
    if (c == '(' || c == '{' || c == '[') {
      if (depth < MAXDEPTH) cx->b[depth] = (bracket){c, t.pos, t.pos + 1};
      depth++;
    } else if ((c == ')' || c == '}' || c == ']') && depth > 0) {
      depth--;
    } else if ((c == ',' || c == ';') && depth > 0 && depth <= MAXDEPTH) {
      cx->b[depth - 1].item = t.pos + 1;
    }
  }
  cx->overflow = depth > MAXDEPTH;
  cx->n = depth > MAXDEPTH ? MAXDEPTH : depth;
}

/* The name chain "a.b.c" or "a.b:c" ending at s[end] (blanks before end
** skipped): returns its start in *start and its length, 0 if none. */
static size_t chainbefore(const char *s, size_t end, size_t *start)
{
  while (end > 0 && isspace((unsigned char)s[end - 1]))
    end--;
  size_t i = end;
  while (i > 0 && (isalnum((unsigned char)s[i - 1]) || strchr("_.:", s[i - 1])))
    i--;
  *start = i;
  return end - i;
}

/* }====================================================== */

/*
** {======================================================
** Reading Lua values without running user code
** =======================================================
*/

/* Pushes t[k] for the value at idx, read raw, then through the chain of
** __index tables of metatables.  Pushes nil when not found. */
static void rawfield(lua_State *L, int idx, const char *k, size_t klen)
{
  lua_pushvalue(L, idx);
  for (int hops = 0; hops < MAXCHAIN; hops++) {
    if (lua_istable(L, -1)) {
      lua_pushlstring(L, k, klen);
      if (lua_rawget(L, -2) != LUA_TNIL) {
        lua_remove(L, -2);
        return;
      }
      lua_pop(L, 1);
    }
    if (!lua_getmetatable(L, -1)) break;
    lua_pushliteral(L, "__index");
    lua_rawget(L, -2);
    if (!lua_istable(L, -1)) { /* computed fields: methods may be listed in __methods */
      lua_pop(L, 1);
      lua_pushliteral(L, "__methods");
      lua_rawget(L, -2);
    }
    lua_remove(L, -2); /* metatable */
    lua_remove(L, -2); /* previous table */
    if (!lua_istable(L, -1)) break;
  }
  lua_pop(L, 1);
  lua_pushnil(L);
}

/* Pushes the value named by the chain s[0..n) ("a.b.c" or "a.b:c"),
** starting from the globals; nil if any part is missing or not a name. */
static void resolve(lua_State *L, const char *s, size_t n)
{
  lua_pushglobaltable(L);
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && s[j] != '.' && s[j] != ':')
      j++;
    if (!isident(s + i, j - i) || lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_pushnil(L);
      return;
    }
    rawfield(L, -1, s + i, j - i);
    lua_remove(L, -2);
    i = j + 1;
    if (j == n) break;
  }
}

/* Adds prefix..key for every identifier key of the value at idx (and of
** its __index tables) that starts with `partial`; functions only when
** `methods`.  Names starting with '_' only when asked for. */
static void fields(lua_State *L, spy_cands *c, int idx, int methods, const char *prefix,
                   size_t plen, const char *partial)
{
  size_t parlen = strlen(partial);
  int hidden = partial[0] == '_';
  lua_pushvalue(L, idx);
  for (int hops = 0; hops < MAXCHAIN; hops++) {
    if (lua_istable(L, -1)) {
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        size_t klen;
        if (lua_type(L, -2) == LUA_TSTRING && (!methods || lua_isfunction(L, -1))) {
          const char *k = lua_tolstring(L, -2, &klen);
          if (isident(k, klen) && klen >= parlen && memcmp(k, partial, parlen) == 0 &&
              (hidden || k[0] != '_'))
            add(L, c, prefix, plen, k, klen);
        }
        lua_pop(L, 1);
      }
    }
    if (!lua_getmetatable(L, -1)) break;
    lua_pushliteral(L, "__index");
    lua_rawget(L, -2);
    if (!lua_istable(L, -1)) {
      /* __index is a function (userdata with computed fields): its metatable
      ** may list the names in __fields (a sequence) and __methods (a table) */
      lua_pop(L, 1);
      if (!methods) {
        lua_getfield(L, -1, "__fields");
        for (lua_Integer i = 1; lua_istable(L, -1); i++) {
          if (lua_geti(L, -1, i) != LUA_TSTRING) {
            lua_pop(L, 1);
            break;
          }
          size_t klen;
          const char *k = lua_tolstring(L, -1, &klen);
          if (klen >= parlen && memcmp(k, partial, parlen) == 0) add(L, c, prefix, plen, k, klen);
          lua_pop(L, 1);
        }
        lua_pop(L, 1);
      }
      lua_getfield(L, -1, "__methods");
      lua_remove(L, -2);
      lua_remove(L, -2);
      if (lua_istable(L, -1)) continue; /* list its functions, no further hops */
      break;
    }
    lua_remove(L, -2);
    lua_remove(L, -2);
  }
  lua_pop(L, 1);
}

/* Pushes spy._spec(value at top) (a table) and returns 1, or pushes
** nothing and returns 0.  The value stays. */
static int pushspec(lua_State *L)
{
  if (!lua_isfunction(L, -1)) return 0;
  if (lua_getfield(L, LUA_REGISTRYINDEX, "spy.namespace") != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  lua_getfield(L, -1, "_spec");
  lua_remove(L, -2);
  lua_pushvalue(L, -2);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

/* }====================================================== */

/*
** If the innermost open bracket is the option table of a call to a
** function with a keyword spec, pushes the spec and returns the bracket;
** else returns NULL and pushes nothing.
*/
static const bracket *calltable(lua_State *L, const char *s, const context *cx)
{
  if (cx->overflow || cx->n == 0 || cx->b[cx->n - 1].open != '{') return NULL;
  const bracket *tab = &cx->b[cx->n - 1];
  size_t j = tab->pos, start, len;
  while (j > 0 && isspace((unsigned char)s[j - 1]))
    j--;
  if (j > 0 && (s[j - 1] == '(' || s[j - 1] == ',')) {
    /* f(..., {  : the '{' must start an argument of the enclosing call */
    if (cx->n < 2) return NULL;
    const bracket *par = &cx->b[cx->n - 2];
    if (par->open != '(' || par->item != j) return NULL;
    len = chainbefore(s, par->pos, &start);
  } else {
    len = chainbefore(s, tab->pos, &start); /* f{ */
  }
  if (len == 0) return NULL;
  resolve(L, s + start, len);
  if (!pushspec(L)) {
    lua_pop(L, 1);
    return NULL;
  }
  lua_remove(L, -2);
  return tab;
}

/* The keys already given in the option table s[from..to), as a set in a
** new table on the stack, so they are not offered again. */
static void givenkeys(lua_State *L, const char *s, size_t from, size_t to)
{
  token t, u;
  int depth = 0, atitem = 1;
  lua_newtable(L);
  for (size_t i = lex(s, to, from, &t); t.type != T_EOF; i = lex(s, to, i, &t)) {
    if (depth == 0 && atitem && t.type == T_NAME) {
      lex(s, to, i, &u);
      if (isop(s, &u, '=')) {
        lua_pushlstring(L, s + t.pos, t.len);
        lua_pushboolean(L, 1);
        lua_rawset(L, -3);
      }
    }
    atitem = 0;
    if (t.type == T_OTHER && t.len == 1) {
      char c = s[t.pos];
      if (c == '(' || c == '{' || c == '[')
        depth++;
      else if ((c == ')' || c == '}' || c == ']') && depth > 0)
        depth--;
      else if ((c == ',' || c == ';') && depth == 0)
        atitem = 1;
    }
  }
}

/* Keyword names of the spec on top of the stack that start with word. */
static void keywords(lua_State *L, spy_cands *c, const char *s, const bracket *tab, size_t end,
                     const char *word)
{
  int spec = lua_gettop(L);
  givenkeys(L, s, tab->pos + 1, end);
  int given = lua_gettop(L);
  size_t wlen = strlen(word);
  lua_getfield(L, spec, "kw");
  int kw = lua_gettop(L);
  for (lua_Integer i = 1; lua_istable(L, kw) && lua_geti(L, kw, i) == LUA_TTABLE; i++) {
    size_t klen;
    lua_getfield(L, -1, "name");
    const char *k = lua_tolstring(L, -1, &klen);
    if (k && klen >= wlen && memcmp(k, word, wlen) == 0 && lua_getfield(L, given, k) == LUA_TNIL)
      add(L, c, k, klen, "", 0);
    lua_settop(L, kw);
  }
  lua_settop(L, spec);
}

/* If s[from..end) is "name =", the allowed values of keyword `name` of the
** spec on top of the stack that start with word; returns 0 when the
** keyword has no list of allowed values. */
static int values(lua_State *L, spy_cands *c, const char *s, size_t from, size_t end,
                  const char *word)
{
  token k, eq, rest;
  size_t i = lex(s, end, from, &k);
  i = lex(s, end, i, &eq);
  lex(s, end, i, &rest);
  if (k.type != T_NAME || !isop(s, &eq, '=') || rest.type != T_EOF) return 0;
  int found = 0, spec = lua_gettop(L);
  lua_getfield(L, spec, "kw");
  for (lua_Integer i = 1; lua_istable(L, -1) && lua_geti(L, -1, i) == LUA_TTABLE; i++) {
    lua_getfield(L, -1, "name");
    const char *name = lua_tostring(L, -1);
    if (name && strlen(name) == k.len && memcmp(name, s + k.pos, k.len) == 0 &&
        lua_getfield(L, -2, "allowed") == LUA_TSTRING) {
      const char *a = lua_tostring(L, -1);
      size_t wlen = strlen(word);
      found = 1;
      while (*a) { /* "a|b|c" */
        size_t n = strcspn(a, "|");
        if (n >= wlen && memcmp(a, word, wlen) == 0) add(L, c, a, n, "", 0);
        a += n + (a[n] == '|');
      }
    }
    lua_settop(L, spec + 1);
  }
  lua_settop(L, spec);
  return found;
}

/* Globals, a.b fields or a:b methods for a word that is a name chain. */
static void names(lua_State *L, spy_cands *c, const char *word)
{
  size_t n = strlen(word), k = n;
  while (k > 0 && word[k - 1] != '.' && word[k - 1] != ':')
    k--;
  const char *partial = word + k;
  if (isdigit((unsigned char)*partial)) return;
  for (const char *p = partial; *p; p++)
    if (!(isalnum((unsigned char)*p) || *p == '_')) return;
  c->kind = SPY_COMPL_NAMES;
  c->strip = k;
  if (k == 0) {
    lua_pushglobaltable(L);
    fields(L, c, lua_gettop(L), 0, "", 0, partial);
    lua_pop(L, 1);
    for (const char *const *r = reserved; *r; r++)
      if (strncmp(*r, partial, strlen(partial)) == 0) add(L, c, *r, strlen(*r), "", 0);
    return;
  }
  if (k == 1) return; /* ".x" or ":x" after something that is not a name */
  int methods = word[k - 1] == ':';
  for (size_t i = 0; i + 1 < k; i++)
    if (word[i] == ':') return; /* a:b.c is not a chain */
  resolve(L, word, k - 1);
  if (!lua_isnil(L, -1)) fields(L, c, lua_gettop(L), methods, word, k, partial);
  lua_pop(L, 1);
}

/* The key whose value is being typed in the innermost table: `key = "|`
** or `key = {"|` (one level of list).  Returns its length (0: none). */
static size_t valuekey(const char *s, size_t end, const context *cx, size_t *kpos)
{
  if (cx->overflow || cx->n == 0 || cx->b[cx->n - 1].open != '{') return 0;
  const bracket *in = &cx->b[cx->n - 1];
  token k, eq, rest;
  size_t i = lex(s, end, in->item, &k);
  i = lex(s, end, i, &eq);
  lex(s, end, i, &rest);
  if (k.type == T_NAME && isop(s, &eq, '=') && rest.type == T_EOF) {
    *kpos = k.pos;
    return k.len;
  }
  if (cx->n < 2 || cx->b[cx->n - 2].open != '{') return 0;
  /* { key = { "a", "| : the list must be the value of `key` in its table */
  const bracket *out = &cx->b[cx->n - 2];
  i = lex(s, in->pos, out->item, &k);
  i = lex(s, in->pos, i, &eq);
  lex(s, in->pos, i, &rest);
  if (k.type != T_NAME || !isop(s, &eq, '=') || rest.type != T_EOF) return 0;
  *kpos = k.pos;
  return k.len;
}

/* Pushes the data object the call being typed works on, or nothing
** (returns 0): the first argument of the outermost call f(obj, ...), or the
** receiver of obj:method{...} / obj:method(...).  Only spy data objects
** count (their fields are read by our own __index, no user code). */
static int callobject(lua_State *L, const char *s, const context *cx)
{
  for (int d = 0; d < cx->n; d++) {
    const bracket *b = &cx->b[d];
    size_t start, len = chainbefore(s, b->pos, &start);
    if (len == 0) continue;
    const char *colon = memchr(s + start, ':', len);
    if (colon) {
      resolve(L, s + start, (size_t)(colon - (s + start)));
    } else if (b->open == '(') {
      token t;
      size_t i = lex(s, strlen(s), b->pos + 1, &t), as = t.pos, an = 0;
      while (t.type == T_NAME || isop(s, &t, '.')) {
        an = t.pos + t.len - as;
        i = lex(s, strlen(s), i, &t);
      }
      if (an == 0 || !(isop(s, &t, ',') || t.type == T_EOF)) continue;
      resolve(L, s + as, an);
    } else {
      continue;
    }
    if (lua_getmetatable(L, -1)) {
      int isdata = lua_getfield(L, -1, "__spydata") == LUA_TBOOLEAN;
      lua_pop(L, 2);
      if (isdata) return 1;
    }
    lua_pop(L, 1);
  }
  return 0;
}

/* Channel names of the object the call works on, for `channel = "|`. */
static int channels(lua_State *L, spy_cands *c, const char *s, size_t end, const context *cx,
                    const char *word)
{
  size_t kpos, klen = valuekey(s, end, cx, &kpos);
  if (!(klen == 7 && memcmp(s + kpos, "channel", 7) == 0) &&
      !(klen == 9 && (memcmp(s + kpos, "channel_i", 9) == 0 || memcmp(s + kpos, "channel_j", 9) == 0)))
    return 0;
  if (!callobject(L, s, cx)) return 0;
  lua_pushlstring(L, s + kpos, klen);
  lua_gettable(L, -2); /* our __index: a list of names */
  size_t wlen = strlen(word);
  for (lua_Integer i = 1; lua_istable(L, -1) && lua_geti(L, -1, i) == LUA_TSTRING; i++) {
    size_t n;
    const char *name = lua_tolstring(L, -1, &n);
    if (n >= wlen && memcmp(name, word, wlen) == 0) add(L, c, name, n, "", 0);
    lua_pop(L, 1);
  }
  lua_pop(L, 3);
  return 1;
}

/* Is the word the first argument of spy.load( ? */
static int loadpath(lua_State *L, const char *s, const context *cx)
{
  if (cx->overflow || cx->n == 0) return 0;
  const bracket *b = &cx->b[cx->n - 1];
  size_t start, len = chainbefore(s, b->pos, &start);
  if (b->open != '(' || b->item != b->pos + 1 || len == 0) return 0;
  int top = lua_gettop(L), is = 0;
  resolve(L, s + start, len);
  if (lua_getfield(L, LUA_REGISTRYINDEX, "spy.namespace") == LUA_TTABLE)
    is = lua_getfield(L, -1, "load") == LUA_TFUNCTION && lua_rawequal(L, -1, top + 1);
  lua_settop(L, top);
  return is;
}

typedef struct request {
  const char *before, *word;
  int quote;
  spy_cands *out;
} request;

static int docomplete(lua_State *L)
{
  request *r = lua_touserdata(L, 1);
  spy_cands *c = r->out;
  size_t end = strlen(r->before);
  context cx;
  scan(r->before, end, &cx);
  const bracket *tab = calltable(L, r->before, &cx);
  if (tab && !r->quote) {
    token t;
    lex(r->before, end, tab->item, &t);
    if (t.type == T_EOF) { /* at a key position: {  or  {a=1, */
      c->kind = SPY_COMPL_KEYWORDS;
      keywords(L, c, r->before, tab, end, r->word);
      if (c->n > 0) return 0;
      c->kind = SPY_COMPL_NONE; /* no such keyword: maybe a value, {x.y} */
    }
  }
  if (tab && r->quote) {
    c->kind = SPY_COMPL_VALUES;
    if (values(L, c, r->before, tab->item, end, r->word)) return 0;
    lua_pop(L, 1); /* the spec */
  }
  if (r->quote) {
    c->kind = SPY_COMPL_VALUES;
    if (channels(L, c, r->before, end, &cx, r->word)) return 0;
    c->kind = loadpath(L, r->before, &cx) ? SPY_COMPL_CONTAINERS : SPY_COMPL_FILES;
    return 0;
  }
  names(L, c, r->word);
  return 0;
}

void spy_complete(lua_State *L, const char *before, const char *word, int quote, spy_cands *out)
{
  request r = {before, word, quote, out};
  memset(out, 0, sizeof *out);
  int top = lua_gettop(L);
  lua_pushcfunction(L, docomplete);
  lua_pushlightuserdata(L, &r);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) { /* out of memory: offer nothing */
    spy_cands_free(out);
    out->kind = SPY_COMPL_NONE;
  }
  lua_settop(L, top);
}
