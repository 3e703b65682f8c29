#ifndef TLSBLAME_CHAIN_H
#define TLSBLAME_CHAIN_H
/*
 * chain.h - analysis of one certificate chain as sent, judged at the capture
 * time of the Certificate message (never "now"), for the role its sender
 * plays, against the peer's CertificateRequest and optionally a trust store.
 */
#include "tlsblame/common.h"
#include "tlsblame/x509.h"

struct tb_chain_input {
    const struct tb_cert *const *certs; /* as sent, leaf first */
    size_t count;
    enum tb_dir sender;                 /* C2S: client chain, S2C: server chain */
    int64_t at;                         /* capture time, Unix seconds */
    const char *sni;                    /* server chain: host name to match, or NULL */
    /* client chain: the server's CertificateRequest, when seen */
    bool have_cert_request;
    const uint8_t *const *ca_names_der; /* DER Names from certificate_authorities */
    const size_t *ca_names_len;
    size_t ca_names_count;
    const uint8_t *cert_types;          /* TLS 1.2 ClientCertificateType list */
    size_t cert_types_count;
    const uint16_t *sig_algs;           /* signature_algorithms(_cert) the peer offered */
    size_t sig_algs_count;
    bool tls13;
    const struct tb_trust *trust;       /* --ca-file, or NULL */
};

struct tb_chain_report {
    bool empty;
    bool any_parse_error;
    int parse_error_index;      /* -1: none */
    bool order_ok;              /* each cert issued by the next */
    int first_break;            /* -1, or i such that certs[i] is not issued by certs[i+1] */
    bool has_duplicates;
    bool has_unrelated;         /* a cert that issues nothing in the chain and is not the leaf */
    bool root_included;         /* last cert is self-signed */
    bool leaf_self_signed;
    bool missing_intermediate;  /* last cert not self-signed and its issuer absent (and not an anchor) */
    const char *missing_issuer; /* RFC 4514 name of what is missing, or NULL */
    enum tb_tri missing_issuer_in_store; /* --ca-file has it as an intermediate / knows it not */
    int expired_index;          /* first expired cert at capture time, -1 none */
    int64_t expired_for;        /* seconds since not_after */
    int not_yet_valid_index;    /* -1 none */
    int64_t not_yet_valid_for;  /* seconds until not_before */
    bool leaf_eku_ok;           /* EKU absent, or has clientAuth/serverAuth for the role (or any) */
    bool leaf_ku_ok;            /* KU absent, or allows digitalSignature */
    bool intermediates_are_ca;
    bool path_len_ok;
    int weak_key_index;         /* RSA/DSA < 2048 bits, EC < 224; -1 none */
    int weak_signature_index;   /* MD5/SHA-1 signed, self-signed root excluded; -1 none */
    enum tb_tri name_matches_sni;      /* server chain with SNI */
    enum tb_tri issuer_in_ca_list;     /* client chain: some issuer in chain is in CR list */
    enum tb_tri key_type_allowed;      /* client leaf key vs TLS 1.2 certificate_types */
    enum tb_tri leaf_sig_alg_offered;  /* leaf signature algorithm vs offered sig algs */
    enum tb_tri trusted;               /* --ca-file verification at capture time */
    char verify_error[256];            /* why not trusted, "" if trusted or unknown */
};

void tb_chain_analyze(const struct tb_chain_input *in, struct tb_chain_report *out);

#endif
