module sdtls.dev/sdtls

go 1.24
