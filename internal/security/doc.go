// Package security creates Cairn's certificates and builds the TLS configs
// that nodes and clients use.
//
// # Files
//
// Everything lives in one certs directory (--certs-dir, default "certs"),
// created with mode 0700; keys are written 0600, certificates 0644, all as PEM
// with ECDSA P-256 keys:
//
//	ca.crt, ca.key              the CA (10 years); ca.key may live elsewhere (--ca-key)
//	                            and is needed only to sign new certificates
//	node.crt, node.key          CommonName "node", SANs = the node's hosts/IPs,
//	                            server and client auth (5 years)
//	client.<user>.crt/.key      CommonName <user>, client auth only (5 years)
//
// Existing files are never replaced unless overwrite is set. ca.crt may hold
// several CA certificates (e.g. while rotating the CA); all are trusted.
//
// # Trust model
//
// There is one CA per cluster and ca.crt is the only trust anchor. Nodes
// authenticate each other mutually with node.crt: the server side verifies
// the dialing node's certificate (CommonName "node") and the dialing side
// verifies the server's certificate against the dialed host or IP. Clients
// (the CLI, SQL and KV clients) verify the node the same way and present
// client.<user>.crt; PeerUser turns the verified certificate into the user
// name, so authorization never relies on anything the peer merely claims.
// Only TLS 1.3 is accepted.
//
// With --insecure a node runs without TLS and without authentication; this
// package is then not used at all, and the node must log a warning at
// startup saying that the cluster is insecure.
//
// # Callers
//
//   - cmd/cairn's `cert` subcommands call CreateCA, CreateNodeCert and
//     CreateClientCert.
//   - The node (internal/server, internal/rpc) calls ServerTLSConfig for its
//     listener and ClientTLSConfig(certsDir, "node") to dial other nodes, and
//     calls PeerUser on accepted connections to learn who the peer is.
//   - Client commands (kv, debug, workload) call ClientTLSConfig(certsDir, user).
//
// Errors about missing or broken files name the file and the `cairn cert`
// command that creates it; a missing file's error matches fs.ErrNotExist.
package security
