#ifndef TLSBLAME_ERR_H
#define TLSBLAME_ERR_H
/*
 * err.h - error codes, source locations and diagnostics shared by every stage.
 * A message says where (file, frame, stage, byte), what, and the numbers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define TB_MUST_USE __attribute__((warn_unused_result))
#define TB_PRINTF(f, a) __attribute__((format(printf, f, a)))

#define TB_ERRORS(X)                                                                               \
    X(TB_OK, "ok")                                                                                 \
    X(TB_ERR_TRUNCATED, "ends before its declared length")                                         \
    X(TB_ERR_LENGTH, "length outside the range the RFC allows")                                    \
    X(TB_ERR_TRAILING, "bytes left after the last field")                                          \
    X(TB_ERR_CAP, "exceeds a tlsblame limit")                                                      \
    X(TB_ERR_VALUE, "value not allowed here")                                                      \
    X(TB_ERR_NOT_TLS, "not a TLS record")                                                          \
    X(TB_ERR_FORMAT, "not a capture file")                                                         \
    X(TB_ERR_LINKTYPE, "unsupported link type")                                                    \
    X(TB_ERR_CRYPTO, "cryptographic check failed")                                                 \
    X(TB_ERR_SYNTAX, "syntax error")                                                               \
    X(TB_ERR_USAGE, "usage error")                                                                 \
    X(TB_ERR_IO, "read error")                                                                     \
    X(TB_ERR_NOMEM, "out of memory")

enum tb_err {
#define TB_ERR_ENUM(id, msg) id,
    TB_ERRORS(TB_ERR_ENUM)
#undef TB_ERR_ENUM
        TB_ERR__COUNT
};

const char *tb_strerror(enum tb_err e);

/* Where a problem was found; any field may be empty (NULL / 0). */
struct tb_where {
    const char *file;  /* input name as the user gave it */
    uint64_t frame;    /* 1-based frame number, 0 if none */
    const char *stage; /* "pcap", "tcp", "tls record", ... */
    int64_t offset;    /* byte offset within the stage's unit, -1 if none */
};

/* Diagnostics go to stderr, prefixed "tlsblame: ". */
void tb_diag(const struct tb_where *w, const char *fmt, ...) TB_PRINTF(2, 3);
void tb_diag_errno(const char *path, const char *what);
/* Format the location prefix ("a.pcap: frame 12: tls record: byte 3: ") into out. */
void tb_where_format(const struct tb_where *w, char *out, size_t out_len);

/* -v levels: 0 quiet-ish, 1 verbose, 3 trace. tb_trace() prints only at level >= 3. */
void tb_set_verbosity(int level);
int tb_verbosity(void);
void tb_trace(const char *fmt, ...) TB_PRINTF(1, 2);

#endif
