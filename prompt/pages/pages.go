package pages

import (
	"net/http"
	"strings"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/web"
)

func (p *writer) Login(w http.ResponseWriter, r *http.Request, status int, l Login) {
	p.render(w, p.login, status, pageData{Title: "Sign in", Username: l.Username, CSRF: l.CSRF, Error: l.Error})
}

func (p *writer) Message(w http.ResponseWriter, r *http.Request, status int, title, msg, link string) {
	p.render(w, p.message, status, pageData{Title: title, Message: msg, Link: link})
}

// errorTitles are the titles of error pages, by status; any other status
// is titled with its status text.
var errorTitles = map[int]string{
	http.StatusNotFound:            "Not found",
	http.StatusMethodNotAllowed:    "Not allowed",
	http.StatusInternalServerError: "Something went wrong",
	http.StatusServiceUnavailable:  "Temporarily unavailable",
}

func (p *writer) Error(w http.ResponseWriter, r *http.Request, e *web.Error) {
	title, ok := errorTitles[e.Status]
	if !ok {
		title = http.StatusText(e.Status)
	}
	p.Message(w, r, e.Status, title, e.Message, "")
}

func (p *writer) Logout(w http.ResponseWriter, r *http.Request, user, csrf string) {
	p.render(w, p.logout, http.StatusOK, pageData{Title: "Sign out", User: user, CSRF: csrf})
}

func (p *writer) Prompt(w http.ResponseWriter, r *http.Request, status int, pr Prompt) {
	p.render(w, p.prompt, status, pageData{
		Title: "Check your device", CSRF: pr.CSRF, Error: pr.Error, Prompt: &pr, User: pr.User,
	})
}

func (p *writer) Denied(w http.ResponseWriter, r *http.Request, decidedBy policy.Decider, failed, warnings []policy.Finding, link string) {
	p.render(w, p.denied, http.StatusForbidden, pageData{
		Title: "Access denied", DecidedBy: string(decidedBy),
		Failed: findingViews(failed), Warnings: findingViews(warnings), Link: link,
	})
}

func (p *writer) Notice(w http.ResponseWriter, r *http.Request, warnings []policy.Finding, link string) {
	p.render(w, p.notice, http.StatusOK, pageData{
		Title: "Please update your device", Warnings: findingViews(warnings), Link: link,
	})
}

func (p *writer) AppLink(w http.ResponseWriter, r *http.Request, link string) {
	p.render(w, p.applink, http.StatusOK, pageData{Title: "Open the trustgate app", Link: link})
}

func (p *writer) SignedIn(w http.ResponseWriter, r *http.Request, user, link string) {
	p.render(w, p.signedIn, http.StatusOK, pageData{Title: "You are signed in", User: user, Link: link})
}

func (p *writer) Forbidden(w http.ResponseWriter, r *http.Request, application, user, csrf, contact string) {
	data := pageData{Title: "No access", Application: application, User: user, CSRF: csrf, Contact: contact}
	if !strings.HasPrefix(contact, "*") && policy.ValidateEmailPattern(contact) == nil {
		data.Contact, data.ContactEmail = "", contact
	}
	p.render(w, p.forbidden, http.StatusForbidden, data)
}
