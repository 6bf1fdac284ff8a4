package prompt

import "github.com/trustgate/trustgate/prompt/web"

// onFreshStack runs f on a goroutine of its own and waits for it
// (web.OnFreshStack).
func onFreshStack(f func()) { web.OnFreshStack(f) }
