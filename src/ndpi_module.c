/*
 * ndpi_module.c - see ndpi_module.h. nDPI 4.2 declares the layout of its
 * detection module only for its own compilation; this file asks for it, and
 * checks the version it was written against.
 */
#define NDPI_LIB_COMPILATION
#include <ndpi_api.h>

#include "ndpi_module.h"

static void drop_cache(struct ndpi_lru_cache **cache)
{
    if (*cache != NULL) {
        ndpi_lru_free_cache(*cache); /* nDPI makes it again when a flow needs it */
        *cache = NULL;
    }
}

bool tb_ndpi_forget_flows(struct ndpi_detection_module_struct *m)
{
#if NDPI_MAJOR == 4 && NDPI_MINOR == 2
    /* ndpi_typedefs.h: what a module carries from flow to flow besides its
     * read-only tables. The TINC cache has no public way out: start anew. */
    if (m->tinc_cache != NULL) {
        return false;
    }
    drop_cache(&m->ookla_cache);
    drop_cache(&m->bittorrent_cache);
    drop_cache(&m->zoom_cache);
    drop_cache(&m->stun_cache);
    drop_cache(&m->tls_cert_cache);
    drop_cache(&m->mining_cache);
    drop_cache(&m->msteams_cache);
    return true;
#else
    (void)m;
    return false;
#endif
}
