#ifndef TLSBLAME_LIMITS_H
#define TLSBLAME_LIMITS_H
/*
 * limits.h - every cap tlsblame applies to untrusted input, in one place.
 * A cap hit is an anomaly fact on the session, never a silent drop.
 */

/* RFC 5246 6.2.3: TLSCiphertext.length <= 2^14 + 2048. */
#define TB_MAX_RECORD_LEN (16384 + 2048)
/* RFC 8446 5.2: TLSCiphertext.length <= 2^14 + 256. */
#define TB_MAX_RECORD13_LEN (16384 + 256)
/* A handshake message we are willing to reassemble (a 10,000-SAN certificate is ~330 KB). */
#define TB_MAX_HS_MSG (512u * 1024u)
/* Bytes of handshake transcript kept for CertificateVerify checks (TLS <= 1.2). */
#define TB_MAX_TRANSCRIPT (512u * 1024u)
#define TB_MAX_CERTS 16
#define TB_MAX_CA_NAMES 256
#define TB_MAX_LIST 256         /* cipher suites, sig algs, groups kept per message (old
                                   OpenSSL offers up to ~90 suites; JA3/JA4 need them all) */
#define TB_MAX_ALPN 16
#define TB_MAX_EVENTS 256       /* timeline entries per session */
#define TB_MAX_ALERTS 32
#define TB_MAX_DEPTH 32         /* nesting of any input-driven structure */
#define TB_MAX_SNI_LEN 255

/* TCP */
#define TB_DEFAULT_MAX_FLOWS 65536
#define TB_MAX_OOO_PER_DIR (1024u * 1024u)     /* out-of-order bytes held per direction */
#define TB_DEFAULT_MAX_OOO_TOTAL (256u * 1024u * 1024u)
#define TB_MAX_OOO_SEGMENTS 1024               /* held segments per direction */
#define TB_DEFAULT_IDLE_TIMEOUT_S 120
#define TB_MAX_IP_FRAG_BYTES (4u * 1024u * 1024u)
#define TB_MAX_IP_FRAG_DGRAMS 256

/* Key logs (NSS format, keylog.c): the longest valid line is under 300 bytes. */
#define TB_MAX_KEYLOG_LINE 1024
#define TB_MAX_KEYLOG_ENTRIES (256u * 1024u)   /* client randoms kept per key log */
#define TB_MAX_KEYLOG_DIAGS 20                 /* malformed-line messages per file */
#define TB_MAX_PCAPNG_DSB (16u * 1024u * 1024u) /* pcapng Decryption Secrets Block body */
#define TB_MAX_PCAPNG_BLOCKS_SCANNED 4096      /* blocks walked looking for secrets */
/* Decrypted application data: bytes of the first line kept per direction (decrypt). */
#define TB_MAX_APP_LINE 200
#define TB_MAX_APP_SCAN 4096 /* decrypted server bytes searched for an application refusal */
/* Application data decrypted per direction before decryption stops (alerts after it are guessed). */
#define TB_MAX_DECRYPTED_APP_RECORDS 16
#define TB_MAX_DECRYPTED_APP_BYTES (16u * 1024u)

/* Per-session arena for derived strings. */
#define TB_SESSION_ARENA_CAP (4u * 1024u * 1024u)

/* Certificates */
#define TB_CERTCACHE_MAX 4096

/* Rules */
#define TB_MAX_RULES 1024
#define TB_MAX_CANDIDATES 8
#define TB_MAX_RULE_FILE (1024u * 1024u)

#endif
