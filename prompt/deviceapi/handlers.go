package deviceapi

import (
	"net/http"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/web"
)

// activate binds a new device key to the user of an activation code.
func (a *API) activate(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	var req protocol.ActivateRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	platform, err := device.ParseActivation(req)
	if err != nil {
		return err
	}
	vp, _, err := a.verifyProof(r, body, true)
	if err != nil {
		return err
	}
	resp, err := a.svc.Activate(r.Context(), a.caller(r), device.Activation{
		ActivateRequest: req, Platform: platform, DeviceID: vp.DeviceID, Key: vp.Key,
	})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if resp.Approval != nil {
		// Created only once another device approves it.
		status = http.StatusAccepted
	}
	web.WriteJSON(w, status, resp)
	return nil
}

// deviceRecord returns the calling device's record.
func (a *API) deviceRecord(w http.ResponseWriter, r *http.Request) error {
	_, d, err := a.verifyProof(r, nil, false)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, protocol.DeviceResponse{
		DeviceID: d.ID, User: d.User, Platform: d.Platform, Model: d.Model,
		OSVersion: d.OSVersion, AppVersion: d.AppVersion, Verdict: d.Verdict,
	})
	return nil
}

// report takes a device's health report for an inline transaction.
func (a *API) report(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	var req protocol.ReportRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if len(req.Facts) == 0 {
		return device.BadRequest("facts missing")
	}
	var facts policy.Facts
	if err := decodeStrictIn(req.Facts, &facts, "facts"); err != nil {
		return err
	}
	if err := device.CheckFacts(facts); err != nil {
		return err
	}
	_, d, err := a.verifyProof(r, body, false)
	if err != nil {
		return err
	}
	resp, err := a.svc.Report(r.Context(), a.caller(r), d, r.PathValue("id"), req.Challenge, facts)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, resp)
	return nil
}

// answer approves or denies a login request.
func (a *API) answer(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	var req protocol.AnswerRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	ans, err := device.ParseAnswer(req)
	if err != nil {
		return err
	}
	_, d, err := a.verifyProof(r, body, false)
	if err != nil {
		return err
	}
	resp, err := a.svc.AnswerPush(r.Context(), a.caller(r), d, r.PathValue("id"), ans)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, resp)
	return nil
}
