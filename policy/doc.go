// Package policy holds trustgate's pure decision logic: policy modes,
// device health facts, requirements and verdicts. It does no I/O and knows
// nothing of HTTP or Caddy; time comes in as an argument.
package policy
