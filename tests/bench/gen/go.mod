module tlsblame.test/benchgen

go 1.19
