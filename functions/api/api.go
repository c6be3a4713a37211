package api

import (
	"net/http"

	"github.com/pouchdp/pouch/shared/app"
)

// Handler is the api function.
func Handler(a *app.App) http.Handler { return a.API.Handler() }
