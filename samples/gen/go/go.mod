module tlsblame.test/samplegen

go 1.19
