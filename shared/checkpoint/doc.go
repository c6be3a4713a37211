// Package checkpoint keeps checkpoints in a provider's bank with Karbor's
// layout (spec §5.2): the metadata object /checkpoints/<id>/index.json, the
// plugins' objects under /checkpoints/<id>/resource-data/<resource id>/, and
// three index objects per checkpoint (by provider, by date, by plan) that make
// listing cheap. Checkpoints are never copied to Redis: the bank is the
// source of truth.
package checkpoint
