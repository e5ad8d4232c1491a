package gameday

import (
	"embed"
	"io/fs"
	"net/http"
)

// assets are the dashboard's page, script and style, embedded: the
// dashboard fetches nothing from the network.
//
//go:embed assets
var assets embed.FS

func dashboardHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := assets.ReadFile("assets/index.html")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'")
		_, _ = w.Write(b)
	})
}

func assetsHandler() http.Handler {
	sub, _ := fs.Sub(assets, "assets")
	return http.StripPrefix("/assets/", http.FileServerFS(sub))
}
