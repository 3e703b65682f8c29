/*
 * test_classify.c - the classify stage: JA4 against the FoxIO specification's
 * own example and a real ClientHello worked by hand, JA3 against a known
 * string and against nDPI's JA3 of the same flows, STARTTLS protocol and
 * refusal detection on bytes taken from the corpus captures, and the whole
 * stage (nDPI + preamble watch) run over those captures: protocols named,
 * handshakes found, nDPI's flow state freed once it decided, nDPI's memory
 * back to its module after the flows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "tlsblame/capture.h"
#include "tlsblame/classify.h"
#include "tlsblame/decode.h"
#include "tlsblame/err.h"
#include "tlsblame/flow.h"
#include "tlsblame/limits.h"
#include "tlsblame/session.h"
#include "tlsblame/tls.h"
#include "tlsblame/x509.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- hand-built hellos ---- */

static void put_list(struct tb_u16_list *l, const uint16_t *v, size_t n)
{
    l->count = 0;
    l->total = 0;
    for (size_t i = 0; i < n; i++) {
        l->total++;
        if (l->count < TB_MAX_LIST) {
            l->v[l->count++] = v[i];
        }
    }
}

/*
 * FoxIO JA4.md "Example" (JA4_ro gives the lists in wire order):
 *   ciphers 1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035
 *   extensions 001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015
 *   signature algorithms 0403,0804,0401,0503,0805,0501,0806,0601; ALPN h2; TLS 1.3
 * JA4 = t13d1516h2_8daaf6152771_e5627efa2ab1. GREASE values are added here
 * (0x0a0a, 0x1a1a, 0xfafa) and must not change it.
 */
static void spec_hello(struct tb_client_hello *ch)
{
    static const uint16_t ciphers[] = {0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
                                       0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
                                       0x009c, 0x009d, 0x002f, 0x0035};
    static const uint16_t exts[] = {0x1a1a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469,
                                    0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
                                    0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0xfafa};
    static const uint16_t sigs[] = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};
    static const uint16_t versions[] = {0x3a3a, 0x0304, 0x0303};

    memset(ch, 0, sizeof *ch);
    ch->seen = true;
    ch->legacy_version = 0x0303;
    put_list(&ch->cipher_suites, ciphers, LEN(ciphers));
    put_list(&ch->extensions, exts, LEN(exts));
    put_list(&ch->sig_algs, sigs, LEN(sigs));
    put_list(&ch->versions, versions, LEN(versions));
    ch->alpn[0] = "h2";
    ch->alpn[1] = "http/1.1";
    ch->alpn_count = 2;
    ch->sni = "example.com";
    ch->sni_len = 11;
}

static void test_ja4_spec_example(void **state)
{
    struct tb_client_hello ch;
    char out[40];

    (void)state;
    spec_hello(&ch);
    assert_true(tb_classify_ja4(&ch, out));
    assert_string_equal(out, "t13d1516h2_8daaf6152771_e5627efa2ab1");
}

static void test_ja4_parts(void **state)
{
    struct tb_client_hello ch;
    char out[40];

    (void)state;
    /* JA4.md: with no signature algorithms the list ends without "_": 6d807ffa2a79. */
    spec_hello(&ch);
    ch.sig_algs.count = 0;
    ch.sig_algs.total = 0;
    assert_true(tb_classify_ja4(&ch, out));
    assert_string_equal(out, "t13d1516h2_8daaf6152771_6d807ffa2a79");

    /* ALPN: http/1.1 -> "h1"; none -> "00"; non-alphanumeric ends -> hex nibbles. */
    spec_hello(&ch);
    ch.alpn[0] = "http/1.1";
    assert_true(tb_classify_ja4(&ch, out));
    assert_memory_equal(out, "t13d1516h1_", 11);
    ch.alpn_count = 0;
    assert_true(tb_classify_ja4(&ch, out));
    assert_memory_equal(out, "t13d151600_", 11);
    ch.alpn_count = 1;
    ch.alpn[0] = "\xab\xcd";
    assert_true(tb_classify_ja4(&ch, out));
    assert_memory_equal(out, "t13d1516ad_", 11);
    ch.alpn[0] = "0\xab";
    assert_true(tb_classify_ja4(&ch, out));
    assert_memory_equal(out, "t13d15163b_", 11);
    ch.alpn[0] = "h";
    assert_true(tb_classify_ja4(&ch, out));
    assert_memory_equal(out, "t13d1516hh_", 11);

    /* No SNI extension: "i", one extension fewer. */
    spec_hello(&ch);
    {
        static const uint16_t exts[] = {0x001b, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d,
                                        0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a,
                                        0x0015};
        put_list(&ch.extensions, exts, LEN(exts));
    }
    assert_true(tb_classify_ja4(&ch, out));
    assert_string_equal(out, "t13i1515h2_8daaf6152771_e5627efa2ab1");

    /* No supported_versions: the ClientHello's version. */
    spec_hello(&ch);
    ch.versions.count = 0;
    ch.versions.total = 0;
    assert_true(tb_classify_ja4(&ch, out));
    assert_memory_equal(out, "t12d", 4);
    ch.legacy_version = 0x0300;
    assert_true(tb_classify_ja4(&ch, out));
    assert_memory_equal(out, "ts3d", 4);
    ch.legacy_version = 0x7f17;
    assert_true(tb_classify_ja4(&ch, out));
    assert_memory_equal(out, "t00d", 4);

    /* No ciphers, no extensions: zero hashes. */
    memset(&ch, 0, sizeof ch);
    ch.seen = true;
    ch.legacy_version = 0x0301;
    assert_true(tb_classify_ja4(&ch, out));
    assert_string_equal(out, "t10i000000_000000000000_000000000000");
}

static void test_fingerprint_refusals(void **state)
{
    struct tb_client_hello ch;
    struct tb_server_hello sh;
    uint16_t many[TB_MAX_LIST + 1];
    char out[40];

    (void)state;
    memset(&ch, 0, sizeof ch);
    memset(&sh, 0, sizeof sh);
    assert_false(tb_classify_ja4(&ch, out)); /* no hello */
    assert_false(tb_classify_ja3(&ch, out));
    assert_false(tb_classify_ja3s(&sh, out));

    /* A list capped at TB_MAX_LIST: a fingerprint of part of it would be wrong. */
    for (size_t i = 0; i < LEN(many); i++) {
        many[i] = (uint16_t)(0x0100 + i);
    }
    spec_hello(&ch);
    put_list(&ch.cipher_suites, many, TB_MAX_LIST);
    assert_true(tb_classify_ja4(&ch, out));
    assert_true(tb_classify_ja3(&ch, out));
    put_list(&ch.cipher_suites, many, TB_MAX_LIST + 1);
    assert_false(tb_classify_ja4(&ch, out));
    assert_false(tb_classify_ja3(&ch, out));
    spec_hello(&ch);
    put_list(&ch.extensions, many, TB_MAX_LIST + 1);
    assert_false(tb_classify_ja4(&ch, out));
    assert_false(tb_classify_ja3(&ch, out));
    spec_hello(&ch);
    put_list(&ch.sig_algs, many, TB_MAX_LIST + 1);
    assert_false(tb_classify_ja4(&ch, out));
}

/*
 * JA3 string (Salesforce JA3 README: SSLVersion,Ciphers,Extensions,
 * EllipticCurves,EllipticCurvePointFormats, GREASE left out):
 *   771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,
 *   45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0
 * `printf %s '...' | md5sum` = 98487aa16281980e7d1120d399efb6a4.
 */
static void test_ja3_known(void **state)
{
    static const uint16_t ciphers[] = {0x2a2a, 4865,  4866,  4867,  49195, 49199, 49196, 49200,
                                       52393,  52392, 49171, 49172, 156,   157,   47,    53};
    static const uint16_t exts[] = {0x4a4a, 45, 51, 16, 65037, 23, 17613, 0, 11, 10, 43,
                                    65281,  35, 18, 5,  13,    27, 0xdada};
    static const uint16_t groups[] = {0x8a8a, 4588, 29, 23, 24};
    static const uint16_t formats[] = {0};
    struct tb_client_hello ch;
    char out[33];

    (void)state;
    memset(&ch, 0, sizeof ch);
    ch.seen = true;
    ch.legacy_version = 771;
    put_list(&ch.cipher_suites, ciphers, LEN(ciphers));
    put_list(&ch.extensions, exts, LEN(exts));
    put_list(&ch.groups, groups, LEN(groups));
    put_list(&ch.ec_point_formats, formats, LEN(formats));
    assert_true(tb_classify_ja3(&ch, out));
    assert_string_equal(out, "98487aa16281980e7d1120d399efb6a4");
}

/* ---- preamble bytes from the corpus captures ---- */

#define S(str) (const uint8_t *)(str), sizeof(str) - 1

/* ndpi/pgsql2.pcapng frame 4: SSLRequest */
static const uint8_t pg_ssl_request[] = {0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f};
/* zeek/ldap/ldap-starttls.pcap frame 4: ExtendedRequest 1.3.6.1.4.1.1466.20037 */
static const uint8_t ldap_request[] = {0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16, '1',
                                       '.',  '3',  '.',  '6',  '.',  '1',  '.',  '4',  '.',  '1',
                                       '.',  '1',  '4',  '6',  '6',  '.',  '2',  '0',  '0',  '3',
                                       '7'};
/* ... frame 6: ExtendedResponse success */
static const uint8_t ldap_success[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07,
                                       0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00};
/* The same with resultCode 52 (unavailable) and a diagnosticMessage. */
static const uint8_t ldap_unavailable[] = {0x30, 0x15, 0x02, 0x01, 0x01, 0x78, 0x10, 0x0a,
                                           0x01, 0x34, 0x04, 0x00, 0x04, 0x09, 'n',  'o',
                                           ' ',  'T',  'L',  'S',  ' ',  'k',  'e'};
/* ndpi/mysql.pcapng frame 19: HandshakeV10 greeting (first bytes) */
static const uint8_t mysql_greeting[] = {0x4a, 0x00, 0x00, 0x00, 0x0a, 0x38, 0x2e, 0x30, 0x2e,
                                         0x33, 0x36, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x31, 0x74,
                                         0x75, 0x67, 0x78, 0x5f, 0x23, 0x56, 0x00, 0xff, 0xff,
                                         0xff, 0x02, 0x00, 0xff, 0xdf, 0x15};
/* ... frame 21: SSLRequest, capabilities 0x19ffae85 (CLIENT_SSL 0x0800 set) */
static const uint8_t mysql_ssl_request[] = {0x20, 0x00, 0x00, 0x01, 0x85, 0xae, 0xff, 0x19, 0x00,
                                            0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00};

static void test_preamble_protocol(void **state)
{
    (void)state;
    /* zeek/tls/smtp-starttls.pcap frame 4 */
    assert_int_equal(tb_classify_preamble(NULL, 0,
                                          S("220 mx.google.com ESMTP hf10si4097299icc.190 - "
                                            "gsmtp\r\n"),
                                          25),
                     TB_PREAMBLE_SMTP);
    assert_string_equal(
        tb_classify_preamble_protocol(S("EHLO openssl.client.net\r\n"), NULL, 0, 2525), "SMTP");
    /* zeek/tls/imap-starttls.pcap frames 4 and 6 */
    assert_int_equal(tb_classify_preamble(NULL, 0,
                                          S("* OK [CAPABILITY IMAP4rev1 CHILDREN ENABLE ID IDLE "
                                            "LIST-EXTENDED]\r\n"),
                                          143),
                     TB_PREAMBLE_IMAP);
    assert_int_equal(tb_classify_preamble(S(". CAPABILITY\r\n"), NULL, 0, 9143), TB_PREAMBLE_IMAP);
    /* zeek/tls/pop3-starttls.pcap frame 5 */
    assert_int_equal(tb_classify_preamble(NULL, 0,
                                          S("+OK ladymacbeth.local Cyrus POP3 v2.3.16 server "
                                            "ready <15125655727712503824.1400173552@ladymacbeth.l"),
                                          110),
                     TB_PREAMBLE_POP3);
    /* ndpi/ftp-start-tls.pcap frames 5 and 7: "220" alone is SMTP or FTP; port 21 or AUTH TLS. */
    assert_int_equal(tb_classify_preamble(NULL, 0,
                                          S("220 \"Authorized users only. All activity may be "
                                            "monitored and reported\"\r\n"),
                                          21),
                     TB_PREAMBLE_FTP);
    assert_int_equal(tb_classify_preamble(NULL, 0, S("220 \"Authorized users only.\"\r\n"), 2121),
                     TB_PREAMBLE_NONE);
    assert_int_equal(tb_classify_preamble(S("AUTH TLS\r\n"),
                                          S("220 \"Authorized users only.\"\r\n"), 2121),
                     TB_PREAMBLE_FTP);
    /* zeek/ftp/ftp-auth-tls.pcap frame 4 */
    assert_int_equal(tb_classify_preamble(NULL, 0, S("220 (vsFTPd 3.0.5)\r\n"), 2121),
                     TB_PREAMBLE_FTP);
    /* zeek/tls/xmpp-starttls.pcap frame 4 */
    assert_int_equal(tb_classify_preamble(S("<stream:stream xmlns:stream='http://etherx.jabber.org/"
                                            "streams' xmlns='jabber:client'"),
                                          NULL, 0, 5222),
                     TB_PREAMBLE_XMPP);
    assert_int_equal(tb_classify_preamble(NULL, 0, S("<?xml version='1.0'?><stream:stream"), 5222),
                     TB_PREAMBLE_XMPP);
    /* zeek/tls/irc-starttls.pcap frames 4 and 6 */
    assert_int_equal(tb_classify_preamble(S("STARTTLS\r\n"), NULL, 0, 6667), TB_PREAMBLE_IRC);
    assert_int_equal(tb_classify_preamble(S("STARTTLS\r\n"),
                                          S(":irc.joulunet.org 670  :STARTTLS successful\r\n"),
                                          6667),
                     TB_PREAMBLE_IRC);
    /* Binary preambles */
    assert_string_equal(tb_classify_preamble_protocol(pg_ssl_request, sizeof pg_ssl_request, NULL,
                                                      0, 60102),
                        "PostgreSQL");
    assert_string_equal(tb_classify_preamble_protocol(ldap_request, sizeof ldap_request, NULL, 0,
                                                      389),
                        "LDAP");
    assert_string_equal(tb_classify_preamble_protocol(NULL, 0, mysql_greeting,
                                                      sizeof mysql_greeting, 3306),
                        "MySQL");
    /* Not a preamble we follow */
    assert_int_equal(tb_classify_preamble(S("GET / HTTP/1.1\r\n"), S("HTTP/1.1 200 OK\r\n"), 80),
                     TB_PREAMBLE_NONE);
    assert_int_equal(tb_classify_preamble(NULL, 0, NULL, 0, 25), TB_PREAMBLE_NONE);
    assert_null(tb_classify_preamble_name(TB_PREAMBLE_NONE));
    assert_null(tb_classify_preamble_name((enum tb_preamble)99));
}

static void test_preamble_truncated(void **state)
{
    (void)state;
    /* Every prefix of the binary preambles: no overread (ASan), and no false SMTP/... */
    for (size_t n = 0; n < sizeof ldap_request; n++) {
        enum tb_preamble p = tb_classify_preamble(ldap_request, n, NULL, 0, 389);
        assert_true(p == TB_PREAMBLE_NONE || p == TB_PREAMBLE_LDAP);
        assert_false(tb_classify_starttls_request(TB_PREAMBLE_LDAP, ldap_request, n, NULL, 0));
    }
    for (size_t n = 0; n < sizeof pg_ssl_request; n++) {
        assert_int_equal(tb_classify_preamble(pg_ssl_request, n, NULL, 0, 5432), TB_PREAMBLE_NONE);
    }
    for (size_t n = 0; n < 6; n++) {
        assert_int_equal(tb_classify_preamble(NULL, 0, mysql_greeting, n, 3306), TB_PREAMBLE_NONE);
    }
    for (size_t n = 0; n < sizeof ldap_unavailable; n++) {
        char line[TB_CLASSIFY_LINE_MAX + 1];
        enum tb_starttls_answer a = tb_classify_starttls_answer(TB_PREAMBLE_LDAP, NULL,
                                                                ldap_unavailable, n, line,
                                                                sizeof line);
        assert_true(a == TB_STARTTLS_NO_ANSWER || a == TB_STARTTLS_REFUSED);
        assert_true(strlen(line) < sizeof line);
    }
    /* BER long-form lengths LDAP never uses are refused, not read. */
    {
        static const uint8_t bad[] = {0x30, 0x85, 0x01, 0x02, 0x03, 0x04,
                                      0x05, 0x02, 0x01, 0x01, 0x77};
        assert_int_equal(tb_classify_preamble(bad, sizeof bad, NULL, 0, 389), TB_PREAMBLE_NONE);
    }
}

static enum tb_starttls_answer answer(enum tb_preamble p, const char *tag, const char *text,
                                      char *line)
{
    return tb_classify_starttls_answer(p, tag, (const uint8_t *)text, strlen(text), line,
                                       TB_CLASSIFY_LINE_MAX + 1);
}

static bool request(enum tb_preamble p, const char *text, char *tag)
{
    return tb_classify_starttls_request(p, (const uint8_t *)text, strlen(text), tag, 24);
}

static void test_starttls_requests_and_answers(void **state)
{
    char line[TB_CLASSIFY_LINE_MAX + 1];
    char tag[24];

    (void)state;
    /* SMTP (zeek smtp-starttls.pcap frames 10, 11; RFC 3207 4 for 454) */
    assert_true(request(TB_PREAMBLE_SMTP, "STARTTLS\r\n", tag));
    assert_false(request(TB_PREAMBLE_SMTP, "EHLO openssl.client.net\r\n", tag));
    assert_int_equal(answer(TB_PREAMBLE_SMTP, NULL, "220 2.0.0 Ready to start TLS\r\n", line),
                     TB_STARTTLS_ACCEPTED);
    assert_int_equal(answer(TB_PREAMBLE_SMTP, NULL, "454 4.7.0 TLS not available due to local "
                                                    "problem\r\n",
                            line),
                     TB_STARTTLS_REFUSED);
    assert_string_equal(line, "454 4.7.0 TLS not available due to local problem");
    assert_int_equal(answer(TB_PREAMBLE_SMTP, NULL, "502 5.5.1 Unrecognized command\r\n", line),
                     TB_STARTTLS_REFUSED);
    assert_int_equal(answer(TB_PREAMBLE_SMTP, NULL, "250-mx.google.com\r\n250 STARTTLS\r\n", line),
                     TB_STARTTLS_NO_ANSWER);

    /* IMAP (zeek imap-starttls.pcap frames 10, 11): the tagged answer decides. */
    assert_true(request(TB_PREAMBLE_IMAP, ". STARTTLS\r\n", tag));
    assert_string_equal(tag, ".");
    assert_false(request(TB_PREAMBLE_IMAP, ". CAPABILITY\r\n", tag));
    assert_int_equal(answer(TB_PREAMBLE_IMAP, ".", ". OK Begin TLS negotiation now\r\n", line),
                     TB_STARTTLS_ACCEPTED);
    assert_int_equal(answer(TB_PREAMBLE_IMAP, "a002", "* BYE going down\r\na002 NO [UNAVAILABLE] "
                                                      "TLS support isn't enabled\r\n",
                            line),
                     TB_STARTTLS_REFUSED);
    assert_string_equal(line, "a002 NO [UNAVAILABLE] TLS support isn't enabled");
    assert_int_equal(answer(TB_PREAMBLE_IMAP, "a002", "a001 NO other command\r\n", line),
                     TB_STARTTLS_NO_ANSWER);
    assert_int_equal(answer(TB_PREAMBLE_IMAP, "a3", "a3 BAD unknown command\r\n", line),
                     TB_STARTTLS_REFUSED);

    /* POP3 (ndpi pop3_stls.pcap frames 11, 12; RFC 2595 4) */
    assert_true(request(TB_PREAMBLE_POP3, "STLS\r\n", tag));
    assert_false(request(TB_PREAMBLE_POP3, "CAPA\r\n", tag));
    assert_int_equal(
        answer(TB_PREAMBLE_POP3, NULL, "+OK Ready to start TLS negotiation.\r\n", line),
        TB_STARTTLS_ACCEPTED);
    assert_int_equal(answer(TB_PREAMBLE_POP3, NULL, "-ERR Unknown command: STLS\r\n", line),
                     TB_STARTTLS_REFUSED);
    assert_string_equal(line, "-ERR Unknown command: STLS");

    /* FTP (ndpi ftp-start-tls.pcap frames 7, 10; RFC 4217) */
    assert_true(request(TB_PREAMBLE_FTP, "AUTH TLS\r\n", tag));
    assert_true(request(TB_PREAMBLE_FTP, "auth ssl\r\n", tag));
    assert_false(request(TB_PREAMBLE_FTP, "USER anonymous\r\n", tag));
    assert_int_equal(answer(TB_PREAMBLE_FTP, NULL, "234 Proceed with negotiation.\r\n", line),
                     TB_STARTTLS_ACCEPTED);
    assert_int_equal(
        answer(TB_PREAMBLE_FTP, NULL, "530 Please login with USER and PASS.\r\n", line),
        TB_STARTTLS_REFUSED);

    /* XMPP (zeek xmpp-starttls.pcap frames 10, 11; RFC 6120 5.4.2.3) */
    assert_true(
        request(TB_PREAMBLE_XMPP, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", tag));
    assert_int_equal(answer(TB_PREAMBLE_XMPP, NULL,
                            "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", line),
                     TB_STARTTLS_ACCEPTED);
    assert_int_equal(answer(TB_PREAMBLE_XMPP, NULL,
                            "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>",
                            line),
                     TB_STARTTLS_REFUSED);

    /* IRC (zeek irc-starttls.pcap frames 4, 6) */
    assert_true(request(TB_PREAMBLE_IRC, "STARTTLS\r\n", tag));
    assert_int_equal(answer(TB_PREAMBLE_IRC, NULL,
                            ":irc.joulunet.org 670  :STARTTLS successful, go ahead with TLS "
                            "handshake\r\n",
                            line),
                     TB_STARTTLS_ACCEPTED);
    assert_int_equal(answer(TB_PREAMBLE_IRC, NULL, ":irc.example 691 :STARTTLS failed\r\n", line),
                     TB_STARTTLS_REFUSED);

    /* PostgreSQL: one byte (pgsql2.pcapng frame 6 'S'; suricata pgsql-ssl-rejected frame 6 'N') */
    assert_true(tb_classify_starttls_request(TB_PREAMBLE_POSTGRESQL, pg_ssl_request,
                                             sizeof pg_ssl_request, NULL, 0));
    assert_int_equal(answer(TB_PREAMBLE_POSTGRESQL, NULL, "S", line), TB_STARTTLS_ACCEPTED);
    assert_int_equal(answer(TB_PREAMBLE_POSTGRESQL, NULL, "N", line), TB_STARTTLS_REFUSED);
    assert_memory_equal(line, "N ", 2);
    assert_int_equal(answer(TB_PREAMBLE_POSTGRESQL, NULL, "", line), TB_STARTTLS_NO_ANSWER);

    /* LDAP */
    assert_true(tb_classify_starttls_request(TB_PREAMBLE_LDAP, ldap_request, sizeof ldap_request,
                                             NULL, 0));
    assert_int_equal(tb_classify_starttls_answer(TB_PREAMBLE_LDAP, NULL, ldap_success,
                                                 sizeof ldap_success, line, sizeof line),
                     TB_STARTTLS_ACCEPTED);
    assert_int_equal(tb_classify_starttls_answer(TB_PREAMBLE_LDAP, NULL, ldap_unavailable,
                                                 sizeof ldap_unavailable, line, sizeof line),
                     TB_STARTTLS_REFUSED);
    assert_string_equal(line, "extendedResponse resultCode 52: no TLS ke");

    /* MySQL: the SSLRequest is the request; TLS follows unanswered. */
    assert_true(tb_classify_starttls_request(TB_PREAMBLE_MYSQL, mysql_ssl_request,
                                             sizeof mysql_ssl_request, NULL, 0));
    {
        uint8_t plain[sizeof mysql_ssl_request];
        memcpy(plain, mysql_ssl_request, sizeof plain);
        plain[5] = 0xa6; /* CLIENT_SSL cleared */
        assert_false(tb_classify_starttls_request(TB_PREAMBLE_MYSQL, plain, sizeof plain, NULL, 0));
    }
    assert_false(tb_classify_starttls_request(TB_PREAMBLE_NONE, S("STARTTLS\r\n"), NULL, 0));
}

/* ---- the stage over real captures ---- */

struct run;

struct flow_result {
    const char *preamble;      /* static */
    char refusal[TB_CLASSIFY_LINE_MAX + 1];
    char ndpi_protocol[64];
    char ja3[33], ja3_ours[33], ja4[40];
    bool ndpi_ja3;
    bool client_hello;
    bool ndpi_freed_early;     /* nDPI's state was gone before the flow ended */
    bool is_tls;
};

struct owner {
    struct tb_session s;
    struct tb_tls *tls;
    struct tb_classify_flow cls;
};

struct run {
    struct tb_decoder *decoder;
    struct tb_flowtab *flows;
    struct tb_certcache *certs;
    struct tb_classifier *classifier;
    struct flow_result results[64];
    size_t count;
    uint64_t next_id;
};

static void *h_open(void *ctx, struct tb_flow *f, const struct tb_pkt *pkt, uint64_t frame,
                    int64_t ts_us)
{
    struct run *r = ctx;
    struct owner *o = calloc(1, sizeof *o);
    uint8_t ipv, addr[16];

    (void)pkt;
    (void)frame;
    (void)ts_us;
    assert_non_null(o);
    tb_session_init(&o->s, ++r->next_id, "test");
    tb_flow_endpoint(f, TB_DIR_S2C, &ipv, addr, &o->s.server.port);
    o->tls = tb_tls_new(&o->s, r->certs);
    assert_non_null(o->tls);
    tb_classify_flow_init(r->classifier, &o->cls);
    return o;
}

static void h_packet(void *ctx, void *owner, enum tb_dir dir, const struct tb_pkt *pkt,
                     uint64_t frame, int64_t ts_us)
{
    struct run *r = ctx;
    struct owner *o = owner;

    (void)frame;
    o->s.dir[dir].packets++;
    o->s.dir[dir].bytes += pkt->payload_len;
    if (dir == TB_DIR_S2C) {
        o->s.server.port = pkt->sport;
    } else {
        o->s.server.port = pkt->dport;
    }
    if (!tb_classify_flow_idle(&o->cls)) {
        tb_classify_packet(r->classifier, &o->cls, &o->s, dir, pkt, ts_us);
    }
}

static void h_deliver(void *ctx, void *owner, enum tb_dir dir, const uint8_t *bytes, size_t len,
                      uint64_t frame, int64_t ts_us)
{
    struct owner *o = owner;
    (void)ctx;
    tb_tls_data(o->tls, dir, bytes, len, frame, ts_us);
}

static void h_gap(void *ctx, void *owner, enum tb_dir dir, uint64_t missing, uint64_t frame,
                  int64_t ts_us)
{
    struct owner *o = owner;
    (void)ctx;
    tb_tls_gap(o->tls, dir, missing, frame, ts_us);
}

static void h_conflict(void *ctx, void *owner, enum tb_dir dir, uint64_t frame)
{
    (void)ctx;
    (void)owner;
    (void)dir;
    (void)frame;
}

static void h_close(void *ctx, void *owner, enum tb_dir dir, bool rst, uint64_t frame,
                    int64_t ts_us)
{
    struct owner *o = owner;
    (void)ctx;
    tb_tls_close(o->tls, dir, rst, frame, ts_us);
}

static bool h_wants(void *ctx, void *owner, enum tb_dir dir)
{
    struct owner *o = owner;
    (void)ctx;
    return tb_tls_wants_bytes(o->tls, dir);
}

static int h_first(void *ctx, const uint8_t *bytes, size_t len)
{
    (void)ctx;
    switch (tb_tls_sniff(bytes, len)) {
    case TB_SNIFF_CLIENT_HELLO:
        return 1;
    case TB_SNIFF_SERVER_HELLO:
        return -1;
    case TB_SNIFF_TLS:
    case TB_SNIFF_NOT_TLS:
    default:
        return 0;
    }
}

static void copy(char *out, size_t n, const char *s)
{
    (void)snprintf(out, n, "%s", s != NULL ? s : "");
}

static void h_end(void *ctx, void *owner, enum tb_flow_end why, uint64_t frame, int64_t ts_us)
{
    struct run *r = ctx;
    struct owner *o = owner;
    struct flow_result *res;

    (void)why;
    (void)frame;
    (void)ts_us;
    if (o == NULL) {
        return;
    }
    tb_tls_finish(o->tls, true, NULL);
    bool early = o->cls.ndpi_done && o->cls.ndpi_flow == NULL;
    tb_classify_flow_end(r->classifier, &o->cls, &o->s);
    assert_null(o->cls.ndpi_flow);
    if (r->count < LEN(r->results) && (o->s.is_tls || o->s.preamble_protocol != NULL)) {
        res = &r->results[r->count++];
        memset(res, 0, sizeof *res);
        res->preamble = o->s.preamble_protocol;
        copy(res->refusal, sizeof res->refusal, o->s.preamble_refusal);
        copy(res->ndpi_protocol, sizeof res->ndpi_protocol, o->s.ndpi_protocol);
        copy(res->ja3, sizeof res->ja3, o->s.ja3);
        copy(res->ja4, sizeof res->ja4, o->s.ja4);
        if (!tb_classify_ja3(&o->s.ch, res->ja3_ours)) {
            res->ja3_ours[0] = '\0';
        }
        res->ndpi_ja3 = o->cls.ndpi_gave_ja3;
        res->client_hello = o->s.ch.seen;
        res->ndpi_freed_early = early;
        res->is_tls = o->s.is_tls;
    }
    tb_tls_free(o->tls);
    tb_session_fini(&o->s, r->certs);
    free(o);
}

static const struct tb_flow_ops ops = {
    .open = h_open,
    .packet = h_packet,
    .deliver = h_deliver,
    .gap = h_gap,
    .conflict = h_conflict,
    .close = h_close,
    .wants = h_wants,
    .end = h_end,
    .first_payload_is_client = h_first,
};

static void h_capture_packet(void *ctx, const struct tb_packet *p)
{
    struct run *r = ctx;
    struct tb_pkt pkt;
    const char *reason = NULL;

    if (tb_decode(r->decoder, p->linktype, p->bytes, p->caplen, p->wirelen, p->ts_us, &pkt,
                  &reason) == TB_DECODE_TCP) {
        tb_flowtab_packet(r->flows, &pkt, p->frame, p->ts_us);
    }
}

static const char *corpus_dir(void)
{
    const char *dir = getenv("TB_CORPUS_DIR");
    return dir != NULL ? dir : "/work/shared/corpus";
}

/* Run capture -> decode -> flows -> TLS + classify over one corpus file; false if it is absent. */
static bool run_capture(struct run *r, const char *name)
{
    char path[1024], errmsg[256];
    struct stat st;
    struct tb_capture *cap = NULL;
    struct tb_flow_limits lim = {.max_flows = 1024,
                                 .max_ooo_total = TB_DEFAULT_MAX_OOO_TOTAL,
                                 .idle_timeout_us = (int64_t)TB_DEFAULT_IDLE_TIMEOUT_S * 1000000};

    (void)snprintf(path, sizeof path, "%s/%s", corpus_dir(), name);
    memset(r, 0, sizeof *r);
    if (stat(path, &st) != 0) {
        return false;
    }
    r->decoder = tb_decoder_new();
    r->certs = tb_certcache_new(64);
    r->classifier = tb_classify_new();
    r->flows = tb_flowtab_new(&lim, &ops, r);
    assert_non_null(r->decoder);
    assert_non_null(r->certs);
    assert_non_null(r->classifier);
    assert_non_null(r->flows);
    assert_int_equal(tb_capture_open_file(path, NULL, &cap, errmsg, sizeof errmsg), TB_OK);
    assert_int_equal(tb_capture_run(cap, h_capture_packet, r, 0, errmsg, sizeof errmsg), TB_OK);
    tb_capture_close(cap);
    tb_flowtab_free(r->flows, 0, 0);
    return true;
}

static void run_done(struct run *r)
{
    tb_classify_free(r->classifier);
    tb_certcache_free(r->certs);
    tb_decoder_free(r->decoder);
}

static void test_captures_starttls(void **state)
{
    static const struct {
        const char *file;
        const char *protocol;
    } cases[] = {
        {"zeek/tls/smtp-starttls.pcap", "SMTP"},       {"ndpi/smtp-starttls.pcap", "SMTP"},
        {"zeek/tls/imap-starttls.pcap", "IMAP"},       {"zeek/tls/pop3-starttls.pcap", "POP3"},
        {"ndpi/pop3_stls.pcap", "POP3"},               {"ndpi/ftp-start-tls.pcap", "FTP"},
        {"zeek/ftp/ftp-auth-tls.pcap", "FTP"},         {"ndpi/pgsql2.pcapng", "PostgreSQL"},
        {"ndpi/mysql.pcapng", "MySQL"},                {"zeek/mysql/encrypted.pcap", "MySQL"},
        {"zeek/ldap/ldap-starttls.pcap", "LDAP"},
        {"suricata/ldap-starttls/input.pcap", "LDAP"},
        {"zeek/tls/xmpp-starttls.pcap", "XMPP"},       {"zeek/tls/irc-starttls.pcap", "IRC"},
        {"suricata/smtp-startssl/input.pcap", "SMTP"},
    };
    struct run *r = calloc(1, sizeof *r);
    size_t ran = 0;

    (void)state;
    assert_non_null(r);
    for (size_t i = 0; i < LEN(cases); i++) {
        if (!run_capture(r, cases[i].file)) {
            continue;
        }
        ran++;
        bool found = false;
        for (size_t k = 0; k < r->count; k++) {
            struct flow_result *res = &r->results[k];
            if (!res->client_hello) {
                continue;
            }
            found = true;
            if (res->preamble == NULL || strcmp(res->preamble, cases[i].protocol) != 0) {
                fail_msg("%s: preamble %s, expected %s", cases[i].file,
                         res->preamble != NULL ? res->preamble : "(none)", cases[i].protocol);
            }
            assert_string_equal(res->refusal, "");
            assert_true(res->is_tls);
        }
        if (!found) {
            fail_msg("%s: no handshake found after the %s preamble", cases[i].file,
                     cases[i].protocol);
        }
        run_done(r);
    }
    free(r);
    print_message("%zu STARTTLS captures analyzed\n", ran);
    if (ran == 0) {
        skip();
    }
}

static void test_capture_pgsql_refused(void **state)
{
    struct run *r = calloc(1, sizeof *r);

    (void)state;
    assert_non_null(r);
    if (!run_capture(r, "suricata/pgsql/pgsql-ssl-rejected-md5-auth-simple-query/input.pcap")) {
        free(r);
        skip();
        return;
    }
    assert_int_equal(r->count, 2); /* two connections, each told 'N' */
    for (size_t k = 0; k < r->count; k++) {
        assert_string_equal(r->results[k].preamble, "PostgreSQL");
        assert_memory_equal(r->results[k].refusal, "N ", 2);
        assert_false(r->results[k].client_hello);
    }
    run_done(r);
    free(r);
}

/*
 * zeek/tls/openjdk-25.0.2-zeek.org.pcap frame 4, worked by hand from the
 * ClientHello (tshark -V) per JA4.md:
 *   t, "13" (supported_versions 0304,0303), "d" (server_name zeek.org),
 *   31 ciphers, 13 extensions, ALPN "h2" -> "t13d3113h2"
 *   sorted ciphers: 0032,0033,0038,0039,0040,0067,006a,006b,009e,009f,00a2,00a3,
 *     00ff,1301,1302,1303,c009,c00a,c013,c014,c023,c024,c027,c028,c02b,c02c,
 *     c02f,c030,cca8,cca9,ccaa -> sha256[:12] 1d947a95fc68
 *   sorted extensions without 0000/0010: 0005,000a,000b,000d,0011,0017,0023,
 *     002b,002d,0032,0033, "_", signature_algorithms (not _cert) in wire
 *     order: 0403,0503,0603,0807,0808,0804,0805,0806,0809,080a,080b,0401,0501,
 *     0601,0402,0303,0301,0302 -> sha256[:12] 7e1102d2036b
 * (Cross-checked: an independent script over tshark's fields agrees with
 * tb_classify_ja4 on every uncapped TLS ClientHello of the corpus.)
 */
static void test_capture_ja4(void **state)
{
    struct run *r = calloc(1, sizeof *r);

    (void)state;
    assert_non_null(r);
    if (!run_capture(r, "zeek/tls/openjdk-25.0.2-zeek.org.pcap")) {
        free(r);
        skip();
        return;
    }
    assert_true(r->count >= 1);
    assert_string_equal(r->results[0].ja4, "t13d3113h2_1d947a95fc68_7e1102d2036b");
    assert_string_equal(r->results[0].ndpi_protocol, "TLS");
    run_done(r);
    free(r);
}

/* tlsblame's own JA3 equals nDPI's for every flow where nDPI computed one. */
static void test_ja3_matches_ndpi(void **state)
{
    static const char *const files[] = {
        "zeek/tls/openjdk-25.0.2-zeek.org.pcap", "ndpi/tls_port_80.pcapng",
        "ndpi/443-curl.pcap",                    "ndpi/tls_alert.pcap",
        "zeek/tls/tls13_psk_succesfull.pcap",    "zeek/tls/client-certificate.pcap",
        "ndpi/selfsigned.pcap",                  "zeek/tls/ecdsa-cert.pcap",
        "zeek/tls/hrr.pcap",                     "ndpi/tls_ech.pcapng",
    };
    struct run *r = calloc(1, sizeof *r);
    size_t compared = 0;

    (void)state;
    assert_non_null(r);
    for (size_t i = 0; i < LEN(files); i++) {
        if (!run_capture(r, files[i])) {
            continue;
        }
        for (size_t k = 0; k < r->count; k++) {
            struct flow_result *res = &r->results[k];
            if (!res->ndpi_ja3 || res->ja3_ours[0] == '\0') {
                continue;
            }
            compared++;
            if (strcmp(res->ja3, res->ja3_ours) != 0) {
                fail_msg("%s flow %zu: nDPI JA3 %s, tlsblame %s", files[i], k, res->ja3,
                         res->ja3_ours);
            }
        }
        run_done(r);
    }
    free(r);
    print_message("JA3 compared with nDPI's on %zu flows\n", compared);
    if (compared == 0) {
        skip();
    }
    assert_true(compared >= 5);
}

/* nDPI's flow state goes once it decided; after the module, nDPI's allocator is back to zero. */
static void test_ndpi_state_and_memory(void **state)
{
    struct tb_classify_stats before, during, after;
    struct run *r = calloc(1, sizeof *r);
    size_t early = 0, tls = 0;

    (void)state;
    assert_non_null(r);
    tb_classify_stats(NULL, &before);
    if (!run_capture(r, "ndpi/443-curl.pcap") && !run_capture(r, "zeek/tls/tls1.2.pcap")) {
        free(r);
        skip();
        return;
    }
    tb_classify_stats(r->classifier, &during);
    assert_true(during.flows >= 1);
    assert_true(during.packets >= 1);
    assert_true(during.packets <= during.flows * TB_CLASSIFY_MAX_PACKETS);
    assert_true(during.detected >= 1);
    assert_true(during.ndpi_ns >= during.init_ns);
    assert_true(during.mem_peak > before.mem_live);
    for (size_t k = 0; k < r->count; k++) {
        tls += r->results[k].is_tls;
        early += r->results[k].ndpi_freed_early;
    }
    assert_true(tls >= 1);
    assert_true(early >= 1); /* decided before the flow ended, state freed then */
    run_done(r);
    tb_classify_stats(NULL, &after);
    assert_int_equal(after.mem_live, before.mem_live);
    free(r);
}

int main(void)
{
    tb_set_verbosity(1); /* nDPI's memory is counted under -v only (the memory test needs it) */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ja4_spec_example),
        cmocka_unit_test(test_ja4_parts),
        cmocka_unit_test(test_fingerprint_refusals),
        cmocka_unit_test(test_ja3_known),
        cmocka_unit_test(test_preamble_protocol),
        cmocka_unit_test(test_preamble_truncated),
        cmocka_unit_test(test_starttls_requests_and_answers),
        cmocka_unit_test(test_captures_starttls),
        cmocka_unit_test(test_capture_pgsql_refused),
        cmocka_unit_test(test_capture_ja4),
        cmocka_unit_test(test_ja3_matches_ndpi),
        cmocka_unit_test(test_ndpi_state_and_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
