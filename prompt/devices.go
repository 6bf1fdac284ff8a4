package prompt

import (
	"context"
	"net/http"
	"time"

	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/deviceapi"
	"github.com/trustgate/trustgate/prompt/store"
)

// deviceHooks is what the gate hears from its device service: the auth
// log of outcomes decided on the device side, and the metrics.
type deviceHooks struct{ g *Gate }

// RecordTx records an outcome of tx decided through the device request c,
// as recordTx does for one decided through a browser's.
func (h deviceHooks) RecordTx(ctx context.Context, c device.Caller, tx *device.Transaction, d *store.Device, result, reason, factor string) error {
	g := h.g
	e := g.txEntry(tx, d, result, reason, factor, false)
	// As completeEntry does from the request; a transaction always holds
	// the browser's access device (newTransaction).
	e.Time = g.cfg.Now().UTC()
	e.Application = c.Application
	if e.IP == "" {
		e.IP, e.UserAgent = c.IP, c.UserAgent
	}
	if e.TrustStatus == "" {
		e.TrustStatus = "unknown"
	}
	// Detached from the request, as in record: a client that hangs up
	// must not cancel the write of its own login record.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	recorded, err := g.appendAuthLog(ctx, e)
	if err == nil {
		g.loginRecorded(recorded)
	}
	g.txRecorded(tx, result, reason, err)
	return err
}

func (h deviceHooks) VerificationStarted(id string, expires time.Time) {
	h.g.observer().VerificationStarted(id, expires)
}

func (h deviceHooks) PushAnswered(state, reason string) {
	h.g.observer().PushOutcome(pushOutcome(state, reason))
}

func (h deviceHooks) PushExpired() { h.g.observer().PushOutcome(pushExpired) }

func (h deviceHooks) StoreFailed(what string, err error) { h.g.storeFailed(what, err) }

// setUpDevices works out what the device check of g needs once: the
// policy's hash and trust-cache scope, the app-link files, the device
// service and the device API (which, without a device check, answers that
// there is none). Config.Device, when set, has its defaults.
func (g *Gate) setUpDevices() error {
	if g.cfg.Device != nil {
		if err := g.setUpDeviceCheck(); err != nil {
			return err
		}
	}
	g.deviceAPI = g.newDeviceAPI()
	return nil
}

// setUpDeviceCheck is setUpDevices for a gate with a device check.
func (g *Gate) setUpDeviceCheck() error {
	d := g.cfg.Device
	g.policyHash = d.Policy.Hash()
	g.trustScope = scopeOf(g.policyHash, g.realmID)
	if err := device.ValidateAppLinks(d.AppleAppIDs, d.AndroidApps); err != nil {
		return err
	}
	var err error
	if len(d.AppleAppIDs) > 0 {
		if g.appSiteAssociation, err = device.AppleAppSiteAssociation(d.AppleAppIDs); err != nil {
			return err
		}
	}
	if len(d.AndroidApps) > 0 {
		if g.assetLinks, err = device.AssetLinks(d.AndroidApps); err != nil {
			return err
		}
	}
	g.devices = g.newDeviceService()
	return nil
}

// newDeviceService returns the device service of g, whose Config.Device
// is set and has its defaults.
func (g *Gate) newDeviceService() *device.Service {
	d := g.cfg.Device
	cfg := device.Config{
		Store: g.cfg.Store,
		InOneCommit: func(ctx context.Context, fn func(ctx context.Context) error) error {
			return store.InOneCommit(ctx, g.cfg.Store, fn)
		},
		Policy: d.Policy, PolicyHash: g.policyHash,
		PushTimeout: d.PushTimeout, ActivationTTL: d.ActivationTTL, ActivationAttempts: d.ActivationAttempts,
		PushLimit: d.PushLimit, PushWindow: d.PushWindow, Enrollment: d.Enrollment, Origins: d.Origins,
		LockoutWindow: g.cfg.LockoutWindow,
		Realm:         g.realmID, DeviceRealm: g.deviceRealm, RealmName: g.realmName,
		Waker: g.wake,
		Hooks: deviceHooks{g}, Logger: g.cfg.Logger, Now: g.cfg.Now,
	}
	if c := g.cfg.Cookies; c != nil {
		cfg.Seal = func(code string) (string, error) { return c.Encode(returnCodeSeal, code) }
		cfg.Open = func(sealed string) (string, error) {
			var code string
			err := c.Decode(returnCodeSeal, sealed, &code)
			return code, err
		}
	}
	return device.New(cfg)
}

// serveDeviceAPI answers the device API under protocol.APIPrefix.
func (g *Gate) serveDeviceAPI(w http.ResponseWriter, r *http.Request) {
	g.deviceAPI.ServeHTTP(w, r)
}

// newDeviceAPI returns the device API of g over its device service.
func (g *Gate) newDeviceAPI() *deviceapi.API {
	return deviceapi.New(deviceapi.Config{
		Service: g.devices, Limiter: g.cfg.Limiter, Application: g.cfg.Application, ClientIP: g.cfg.ClientIP,
		Retired: g.cfg.Retired, Exiting: g.cfg.Exiting, Logger: g.cfg.Logger, Now: g.cfg.Now,
	})
}

// returnCodeSeal names the sealed return code (device.Record.ReturnSealed)
// for the cookie codec, which binds the name into the MAC.
const returnCodeSeal = "tg_return_code"

var _ device.Hooks = deviceHooks{}
