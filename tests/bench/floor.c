/*
 * floor.c - the throughput floor for tests/bench/run.sh: a bare libpcap read
 * loop over one capture file, touching each packet's first byte so the data
 * is really read. Prints packets and bytes so the loop cannot be optimised out.
 *
 *   cc -O2 -o floor floor.c -lpcap && ./floor FILE
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t packets = 0, bytes = 0, sum = 0;
    pcap_t *p;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: floor FILE\n");
        return 2;
    }
    p = pcap_open_offline(argv[1], err);
    if (p == NULL) {
        fprintf(stderr, "floor: %s\n", err);
        return 2;
    }
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        packets++;
        bytes += h->caplen;
        if (h->caplen > 0) {
            sum += data[0];
        }
    }
    if (rc == -1) {
        fprintf(stderr, "floor: %s\n", pcap_geterr(p));
    }
    pcap_close(p);
    printf("%llu packets %llu bytes %llu\n", (unsigned long long)packets,
           (unsigned long long)bytes, (unsigned long long)sum);
    return rc == -1 ? 1 : 0;
}
