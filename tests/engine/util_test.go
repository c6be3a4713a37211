package engine_test

import (
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/pouchdp/pouch/shared/checkpoint"
	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/shared/store"
)

func redisZ(member string) redis.Z { return redis.Z{Score: 1, Member: member} }

func checkpointCollection(p *provider.Provider) *checkpoint.Collection {
	return &checkpoint.Collection{Bank: p.Bank, ProviderID: p.ID}
}

func storeAll(project string) store.ListOptions { return store.ListOptions{Project: project} }

func getenv(k string) string { return os.Getenv(k) }
