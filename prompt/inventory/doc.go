// Package inventory holds the managed-device side of device trust, without
// HTTP or Caddy: reading an inventory that an organisation's device
// management exports, and matching a request's verified TLS client
// certificate against the active one.
//
// An upload (CSV with a header row, or JSON) is read as a stream by a
// Parser, which brings every identifier to its one normal form and
// reports every bad row and every duplicate with its line; Import hands
// the entries to the store in one all-or-nothing call, so an upload with
// a single bad row changes nothing. Identify reads the same identifiers,
// in the same normal forms, from a certificate. An Index is one
// inventory held in memory for lookups without storage; Active holds the
// index of the store's active inventory and swaps in a new one only once
// it is fully loaded, so every request sees either the old inventory or
// the new one, never part of one.
package inventory
