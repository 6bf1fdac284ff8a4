package web

// OnFreshStack runs f on a goroutine of its own and waits for it.
//
// A goroutine keeps the largest stack it ever needed until a garbage
// collection finds it using less than a quarter of it, and the request
// goroutines that wait longest (a held push long-poll, and a browser's
// keep-alive connection between two status polls) would otherwise grow
// theirs in the store read or the proof check just before they wait: the
// SQLite driver's calls are deep. Thousands of waiting devices and pages
// multiply that. Done here, the deep calls' stack is given back when f
// returns, and the waiting goroutine keeps only the depth of the handler
// chain. A panic in f is raised again in the caller, where the server's
// recovery sees it.
func OnFreshStack(f func()) {
	done := make(chan any, 1)
	go func() {
		var recovered any
		defer func() { done <- recovered }()
		defer func() { recovered = recover() }()
		f()
	}()
	if p := <-done; p != nil {
		panic(p)
	}
}
