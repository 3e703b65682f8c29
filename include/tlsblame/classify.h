#ifndef TLSBLAME_CLASSIFY_H
#define TLSBLAME_CLASSIFY_H
/*
 * classify.h - what a flow is, beside the TLS layer: nDPI's verdict on the
 * first packets (protocol, application, category, flow risks, JA3), the
 * STARTTLS-style plaintext before TLS (which protocol, and whether the
 * server refused to start TLS), and the JA3/JA3S/JA4 fingerprints of the
 * hellos. nDPI is a hint, never the source of handshake facts: the TLS layer
 * parses every flow whatever nDPI says.
 *
 * One struct tb_classifier (one nDPI detection module) per worker; one
 * struct tb_classify_flow per flow, embedded in the flow's owner. nDPI's
 * per-flow state is allocated when the flow opens and freed as soon as nDPI
 * has decided (or after TB_CLASSIFY_MAX_PACKETS packets), never kept for
 * the flow's lifetime.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsblame/common.h"
#include "tlsblame/decode.h"
#include "tlsblame/session.h"

/* Packets nDPI sees per flow before tlsblame makes it give up. */
#define TB_CLASSIFY_MAX_PACKETS 32
/* The plaintext preamble is watched for this many payloads / bytes per direction. */
#define TB_CLASSIFY_PREAMBLE_PAYLOADS 32
#define TB_CLASSIFY_PREAMBLE_BYTES (16u * 1024u)
/* First payload bytes kept per direction to name the preamble protocol. */
#define TB_CLASSIFY_FIRST_LEN 64
/* Longest refusal or answer line kept (bytes). */
#define TB_CLASSIFY_LINE_MAX 120

enum tb_preamble {
    TB_PREAMBLE_NONE = 0,
    TB_PREAMBLE_SMTP,       /* RFC 3207 STARTTLS */
    TB_PREAMBLE_IMAP,       /* RFC 3501 6.2.1 STARTTLS */
    TB_PREAMBLE_POP3,       /* RFC 2595 4 STLS */
    TB_PREAMBLE_FTP,        /* RFC 4217 AUTH TLS */
    TB_PREAMBLE_XMPP,       /* RFC 6120 5 <starttls/> */
    TB_PREAMBLE_POSTGRESQL, /* SSLRequest, answered 'S' or 'N' */
    TB_PREAMBLE_LDAP,       /* RFC 4511 4.14 StartTLS extended operation */
    TB_PREAMBLE_MYSQL,      /* SSLRequest packet in the handshake response */
    TB_PREAMBLE_IRC,        /* IRCv3 STARTTLS (670 / 691) */
};

enum tb_starttls_answer {
    TB_STARTTLS_NO_ANSWER = 0, /* nothing in these bytes answers the request */
    TB_STARTTLS_ACCEPTED,
    TB_STARTTLS_REFUSED,
};

struct tb_classifier;

/* Per-flow state. Fields are classify.c's; the owner only embeds it (zeroed). */
struct tb_classify_flow {
    void *ndpi_flow;               /* nDPI's flow state while it decides, else NULL */
    uint16_t ndpi_packets;         /* packets given to nDPI */
    bool ndpi_saw_data;            /* it had a packet with payload: bare ACKs no longer go */
    bool ndpi_done;
    bool ndpi_detected;            /* nDPI named a protocol before the end */
    bool ndpi_gave_ja3;            /* the session's JA3 is nDPI's (else tlsblame's own) */
    bool ended;                    /* tb_classify_flow_end ran */

    bool preamble_done;            /* TLS started, the answer came, or not a preamble */
    bool starttls_asked;
    enum tb_preamble preamble;
    bool seen_payload[TB_DIR_COUNT];
    uint32_t next_seq[TB_DIR_COUNT];
    uint16_t payloads[TB_DIR_COUNT];
    uint32_t scanned_len[TB_DIR_COUNT];
    uint8_t first[TB_DIR_COUNT][TB_CLASSIFY_FIRST_LEN];
    uint8_t first_len[TB_DIR_COUNT];
    char imap_tag[24];             /* tag of the client's IMAP STARTTLS command */
};

struct tb_classify_stats {
    uint64_t flows;                /* flows given to nDPI */
    uint64_t packets;              /* packets nDPI processed */
    uint64_t detected;             /* flows nDPI named */
    uint64_t undecided;            /* flows nDPI could not name */
    uint64_t ndpi_ns;              /* time inside nDPI calls, module setup included */
    uint64_t init_ns;              /* of which: detection module setup */
    int64_t mem_live;              /* bytes allocated through nDPI's allocator, process-wide */
    int64_t mem_peak;
};

/* One nDPI detection module with every protocol enabled. NULL: out of memory. */
struct tb_classifier *tb_classify_new(void);
void tb_classify_free(struct tb_classifier *c); /* NULL-safe */
/*
 * Between two captures: forget what nDPI learnt from the flows of the last
 * one (its per-module caches of servers and certificates), so the next is
 * classified exactly as by a new module, without the ~10 ms of setting one
 * up. The counters restart. false: it cannot (the caller makes a new one).
 */
bool tb_classify_reset(struct tb_classifier *c);
void tb_classify_stats(const struct tb_classifier *c, struct tb_classify_stats *out);
/* nDPI's version string ("4.2.0"), for --version. */
const char *tb_classify_ndpi_version(void);

/* A flow opened: zero cf and allocate nDPI's flow state (none if out of memory). */
void tb_classify_flow_init(struct tb_classifier *c, struct tb_classify_flow *cf);
/*
 * Each packet of the flow, in capture order, before its payload is
 * delivered. Feeds nDPI until it decides and watches the plaintext
 * preamble; writes what it learns into s (ndpi_*, preamble_protocol,
 * preamble_refusal). Cheap once both are done.
 */
void tb_classify_packet(struct tb_classifier *c, struct tb_classify_flow *cf, struct tb_session *s,
                        enum tb_dir dir, const struct tb_pkt *pkt, int64_t ts_us);
/* Nothing more to watch: the caller may stop calling tb_classify_packet. */
bool tb_classify_flow_idle(const struct tb_classify_flow *cf);
/*
 * The flow ended (after the TLS layer finished): an undecided nDPI gives up
 * and its answer is recorded; nDPI's state is freed; JA3/JA3S/JA4 are filled
 * from the hellos where nDPI did not give them. A refused STARTTLS with no
 * ClientHello after it makes the outcome TB_OUTCOME_FAILED. NULL-safe for c;
 * a second call does nothing.
 */
void tb_classify_flow_end(struct tb_classifier *c, struct tb_classify_flow *cf,
                          struct tb_session *s);

/*
 * Fingerprints of a parsed hello. False when there is no hello or a list
 * was capped (TB_MAX_LIST): a fingerprint of a partial list would be wrong.
 * JA3/JA3S: 32 hex chars of MD5. JA4 (FoxIO JA4 TLS client): 36 chars.
 */
bool tb_classify_ja3(const struct tb_client_hello *ch, char out[33]);
bool tb_classify_ja3s(const struct tb_server_hello *sh, char out[33]);
bool tb_classify_ja4(const struct tb_client_hello *ch, char out[40]);

/*
 * The protocol of a plaintext preamble, from the first bytes each side sent
 * (either may be empty while that side has not spoken). TB_PREAMBLE_NONE
 * while it cannot tell. Binary preambles (PostgreSQL, LDAP, MySQL) need
 * the bytes, so the arguments are bytes, not C strings.
 */
enum tb_preamble tb_classify_preamble(const uint8_t *client_first, size_t client_len,
                                      const uint8_t *server_first, size_t server_len,
                                      uint16_t server_port);
/* "SMTP", "IMAP", ... or NULL for TB_PREAMBLE_NONE. Static strings. */
const char *tb_classify_preamble_name(enum tb_preamble p);
/* tb_classify_preamble() by name, or NULL. */
const char *tb_classify_preamble_protocol(const uint8_t *client_first, size_t client_len,
                                          const uint8_t *server_first, size_t server_len,
                                          uint16_t server_port);
/*
 * Does this client payload ask to start TLS? For IMAP the command's tag is
 * copied to tag (tag_len bytes, NUL-terminated) to match the answer.
 */
bool tb_classify_starttls_request(enum tb_preamble p, const uint8_t *bytes, size_t len, char *tag,
                                  size_t tag_len);
/*
 * The server's answer to the request, if these bytes hold it. The deciding
 * line (or a description for binary protocols) goes to line (NUL-terminated,
 * at most line_len - 1 bytes, raw: escape it before printing).
 */
enum tb_starttls_answer tb_classify_starttls_answer(enum tb_preamble p, const char *tag,
                                                    const uint8_t *bytes, size_t len, char *line,
                                                    size_t line_len);

#endif
