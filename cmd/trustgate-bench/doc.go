// Command trustgate-bench measures the gateway under load, as issue 6 asks:
// one command that builds nothing by hand.
//
//	go run ./cmd/trustgate-bench                    # every run at default sizes
//	go run ./cmd/trustgate-bench -runs hot -duration 20s -workers 64
//	go run ./cmd/trustgate-bench -runs verify -postgres 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'
//	go run ./cmd/trustgate-bench -runs pending -pending 10000
//
// It starts a small upstream in its own process and runs the gateway as a
// child process: the bench binary re-executes itself with a hidden
// subcommand that is Caddy with trustgate's modules, so the plain-Caddy and
// the trustgate configurations run the same code and the server's CPU time
// (read from /proc) is separate from the load generator's.
//
// Three runs, each printing one table:
//
//   - hot: the signed-in, trusted request path. Plain reverse_proxy (A)
//     against trusted_endpoints in front of the same reverse_proxy (B), with
//     one session obtained through the real flow (users-file login, the
//     device check answered by the reference agent). Rounds alternate A and
//     B to spread drift. Reports req/s, p50/p99 latency, server CPU µs per
//     request and B/A.
//   - verify: complete inline verifications (protected URL → login →
//     prompt → signed health report → approval → return link → protected
//     page) by many users with activated devices; verifications/s and
//     server CPU ms per verification, on SQLite and, given -postgres (or
//     TRUSTGATE_TEST_POSTGRES), on a fresh PostgreSQL database dropped after.
//   - pending: K verifications left pending at once, each a browser waiting
//     on the prompt (polling its status) and its device long-polling for
//     pushes; the server's RSS before and while they are held.
//
// Everything stays on loopback. The figures are measurements, never
// assertions; the machine's load (other processes) moves them.
//
// The runs are hot.go, verify.go and pending.go (with browserconns.go);
// flow.go and device.go are the person and the phone they simulate, and
// main.go and bench.go the command's wiring. The machinery is in internal/:
// gateway (the server child process, its Caddyfiles, its admin endpoint),
// loadgen (the load generator and its latency percentiles), browser (the
// phone's browser and its waiting page), loopback (an address of its own
// for every client), proc (CPU, memory and limits from /proc) and table
// (the printed results).
package main
