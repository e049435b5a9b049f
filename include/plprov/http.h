/*
 * http — one bounded HTTP exchange with libcurl, shared by the OpenAPI client and the credential
 * chain's metadata-service lookups.
 *
 * The library never prints and never follows redirects. Every exchange has a connect timeout and a
 * total timeout, speaks only http or https, verifies TLS peers and host names, and stops reading a
 * response body at a hard ceiling. The request and response are plain structs so that a test can
 * replace the whole transport with a function of the same shape (prov_http_transport_fn) and never
 * open a socket. Response bodies may carry credentials (metadata service), so they are cleansed
 * before they are freed.
 *
 * Threads: a struct prov_http is used by one thread at a time. prov_http_global_init() must run
 * once before any other thread starts (libcurl's curl_global_init is not thread-safe on every
 * build); prov_http_new() calls it too, which is enough for a single-threaded CLI.
 */
#ifndef PLPROV_HTTP_H
#define PLPROV_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define PROV_HTTP_MAX_HEADERS 48              /* request header lines per exchange */
#define PROV_HTTP_REQUEST_ID_BYTES 128        /* x-acs-request-id value kept, NUL included */
#define PROV_HTTP_DATE_BYTES 64               /* Date header value kept, NUL included */
#define PROV_HTTP_ERROR_BYTES 256             /* transport error text, NUL included */
#define PROV_HTTP_DEFAULT_MAX_BODY (4u << 20) /* 4 MiB response ceiling when none is given */

/* One request. Every pointer is borrowed for the duration of the exchange. */
struct prov_http_request {
    const char *method; /* "GET", "POST", "PUT", "PATCH", "DELETE" (upper-case) */
    const char *url;    /* absolute http:// or https:// URL, query already encoded */
    const char *const
        *headers;        /* "Name: value" lines, no CR/LF; a "Host: x" line replaces curl's */
    size_t header_count; /* at most PROV_HTTP_MAX_HEADERS */
    const uint8_t *body; /* request body or NULL */
    size_t body_bytes;
    long connect_timeout_ms;   /* > 0 */
    long timeout_ms;           /* > 0, whole exchange */
    size_t max_response_bytes; /* 0 means PROV_HTTP_DEFAULT_MAX_BODY */
    int no_proxy;              /* 1: ignore proxy settings from the environment */
    const char *ca_file;       /* PEM bundle to verify TLS peers against, NULL for the system's */
};

/* Why an exchange produced no usable response. */
enum prov_http_failure {
    PROV_HTTP_OK = 0,         /* a complete response was received (any status) */
    PROV_HTTP_CONNECT = 1,    /* name resolution or TCP/TLS connect failed */
    PROV_HTTP_TIMEOUT = 2,    /* connect or total timeout expired */
    PROV_HTTP_TOO_LARGE = 3,  /* the body exceeded max_response_bytes */
    PROV_HTTP_TLS = 4,        /* certificate or handshake verification failed */
    PROV_HTTP_IO = 5,         /* any other transport error (reset, protocol error, ...) */
    PROV_HTTP_BAD_REQUEST = 6 /* the request itself was unusable (bad URL, too many headers, OOM) */
};

/* One response. Initialise with prov_http_response_init, release with prov_http_response_cleanup.
 */
struct prov_http_response {
    long status;       /* HTTP status code, 0 when failure != PROV_HTTP_OK */
    char *body;        /* heap, NUL-terminated (the NUL is not counted), NULL when empty */
    size_t body_bytes; /* bytes at body */
    char request_id[PROV_HTTP_REQUEST_ID_BYTES]; /* x-acs-request-id response header, or "" */
    char date[PROV_HTTP_DATE_BYTES];             /* Date response header, or "" */
    enum prov_http_failure failure;              /* PROV_HTTP_OK when a response arrived */
    char error[PROV_HTTP_ERROR_BYTES];           /* transport error text, "" when failure is OK */
};

/* Replaceable transport: fill resp and return 0 when a response arrived (any status), or set
 * resp->failure and resp->error and return -1. resp arrives initialised and empty. */
typedef int (*prov_http_transport_fn)(void *ctx, const struct prov_http_request *req,
                                      struct prov_http_response *resp);

struct prov_http; /* a reusable libcurl easy handle (keeps connections alive between calls) */

/* Initialise libcurl once per process. 0 or -1. */
int prov_http_global_init(void);

/* A new handle, or NULL (out of memory or libcurl unusable). Owned by the caller. */
struct prov_http *prov_http_new(void);

/* Releases the handle; NULL is accepted. */
void prov_http_free(struct prov_http *h);

/* One exchange on h (NULL: a temporary handle). Same contract as prov_http_transport_fn. */
int prov_http_exchange(struct prov_http *h, const struct prov_http_request *req,
                       struct prov_http_response *resp);

/* The transport function that uses libcurl; ctx is a struct prov_http * (or NULL). */
int prov_http_curl_transport(void *ctx, const struct prov_http_request *req,
                             struct prov_http_response *resp);

void prov_http_response_init(struct prov_http_response *resp);

/* Cleanses and frees the body and resets resp to the initial state. NULL is accepted. */
void prov_http_response_cleanup(struct prov_http_response *resp);

/* Takes ownership of a copy of data[0..len) as resp->body (NUL added). For transports written by
 * tests and for this module. 0, or -1 when out of memory. */
int prov_http_response_set_body(struct prov_http_response *resp, const void *data, size_t len);

/* Short human text for a failure value ("timed out", ...). */
const char *prov_http_failure_name(enum prov_http_failure f);

#endif
