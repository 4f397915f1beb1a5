/* api_auth.c - accounts: register, log in, log out, me. Passwords are
 * argon2id (libsodium, interactive limits) and are hashed on the slow lane. */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api.h"

#define USERNAME_MIN 3
#define USERNAME_MAX 24
#define PASSWORD_MIN 8
#define PASSWORD_MAX 128

static json_t *user_json(const StoreUser *u) {
    return json_pack("{s:I,s:s,s:I,s:I}", "id", (json_int_t)u->id, "username", u->username,
                     "points", (json_int_t)u->points, "created_at", (json_int_t)u->created_at);
}

static bool username_ok(const char *s, ApiResponse *res) {
    size_t n = strlen(s);
    bool ok = n >= USERNAME_MIN && n <= USERNAME_MAX && isalnum((unsigned char)s[0]);
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        ok = c < 128 && (isalnum(c) || c == '_' || c == '-');
    }
    if (!ok)
        api_error(res, 400, "bad_field",
                  "'username' must be %d to %d characters of A-Z a-z 0-9 _ -, starting with a "
                  "letter or digit",
                  USERNAME_MIN, USERNAME_MAX);
    return ok;
}

/* Makes a session for user and answers status with {user, token, expires_at}
 * and the cookie. */
static void start_session(ApiCtx *ctx, ApiRequest *req, ApiResponse *res, const StoreUser *u,
                          int status) {
    uint8_t selector[16], verifier[32], vhash[32];
    char sel_hex[33], ver_hex[65], token[97];
    randombytes_buf(selector, sizeof selector);
    randombytes_buf(verifier, sizeof verifier);
    sodium_bin2hex(sel_hex, sizeof sel_hex, selector, sizeof selector);
    sodium_bin2hex(ver_hex, sizeof ver_hex, verifier, sizeof verifier);
    snprintf(token, sizeof token, "%s%s", sel_hex, ver_hex);
    crypto_generichash(vhash, sizeof vhash, verifier, sizeof verifier, NULL, 0);
    sodium_memzero(verifier, sizeof verifier);
    int64_t expires = req->now + API_SESSION_TTL_S;
    CrError err = {{0}};
    if (store_session_create(ctx->store, sel_hex, vhash, u->id, expires, &err)) {
        api_internal(res, "create session", &err);
        return;
    }
    /* Expired sessions go away now and then, on the way. */
    store_session_purge(ctx->store, req->now, NULL, &err);
    char cookie[256];
    snprintf(cookie, sizeof cookie, "cr_session=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%d",
             token, API_SESSION_TTL_S);
    api_header(res, "Set-Cookie", cookie);
    api_json(res, status,
             json_pack("{s:o,s:s,s:I}", "user", user_json(u), "token", token, "expires_at",
                       (json_int_t)expires));
    sodium_memzero(token, sizeof token);
}

void api_auth_register(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    const char *username, *password;
    if (!api_get_string(req, res, "username", true, 1, 256, &username)) return;
    if (!username_ok(username, res)) return;
    if (!api_get_string(req, res, "password", true, PASSWORD_MIN, PASSWORD_MAX, &password)) return;
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        api_error(res, 503, "busy", "the server is out of memory for hashing; try again");
        return;
    }
    CrError err = {{0}};
    int64_t id = 0;
    int r = store_user_create(ctx->store, username, hash, ctx->settings->starting_points,
                              ctx->settings->starter_car, ctx->settings->starter_car, &id, &err);
    if (r == STORE_ECONFLICT) {
        api_error(res, 409, "username_taken", "the username '%s' is taken", username);
        return;
    }
    if (r) {
        api_internal(res, "register", &err);
        return;
    }
    StoreUser u;
    if ((r = store_user_get(ctx->store, id, &u, &err))) {
        api_internal(res, "register", &err);
        return;
    }
    start_session(ctx, req, res, &u, 201);
}

void api_auth_login(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    const char *username, *password;
    if (!api_get_string(req, res, "username", true, 1, 256, &username)) return;
    if (!api_get_string(req, res, "password", true, 1, PASSWORD_MAX, &password)) return;
    StoreUser u;
    CrError err = {{0}};
    int r = store_user_by_name(ctx->store, username, &u, &err);
    if (r && r != CR_ENOTFOUND) {
        api_internal(res, "login", &err);
        return;
    }
    /* An unknown user costs the same hash verification as a known one, so
     * neither the answer nor its timing tells which usernames exist. */
    const char *hash = r ? ctx->settings->dummy_hash : u.password_hash;
    bool ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 && !r;
    if (!ok) {
        res->login_failed = true;
        api_error(res, 401, "bad_credentials", "wrong username or password");
        return;
    }
    start_session(ctx, req, res, &u, 200);
}

void api_auth_logout(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    if (!api_authenticate(ctx, req, res)) return;
    char selector[33];
    memcpy(selector, req->token, 32);
    selector[32] = 0;
    CrError err = {{0}};
    if (store_session_delete(ctx->store, selector, &err)) {
        api_internal(res, "logout", &err);
        return;
    }
    api_header(res, "Set-Cookie", "cr_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    api_no_content(res);
}

void api_me(ApiCtx *ctx, ApiRequest *req, ApiResponse *res) {
    if (!api_authenticate(ctx, req, res)) return;
    api_json(res, 200, json_pack("{s:o}", "user", user_json(&req->user)));
}
