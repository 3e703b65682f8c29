#ifndef TLSBLAME_NDPI_MODULE_H
#define TLSBLAME_NDPI_MODULE_H
/*
 * ndpi_module.h - the one place that reads nDPI's module structure, which
 * nDPI 4.2 shows only to itself (NDPI_LIB_COMPILATION).
 */
#include <stdbool.h>

struct ndpi_detection_module_struct;

/*
 * Drop what the module learnt from earlier flows (its LRU caches of
 * servers, certificates, STUN and others), as if it were new. false when
 * that is not possible (another nDPI version, or a cache with no way out).
 */
bool tb_ndpi_forget_flows(struct ndpi_detection_module_struct *m);

#endif
