package main

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
	"os"
	"time"
)

type Config struct {
	ListenAddress   string        `json:"listen_address"`
	DatabaseURL     string        `json:"database_url"`
	ReadTimeout     time.Duration `json:"read_timeout"`
	TokenTTL        time.Duration `json:"token_ttl"`
	PasswordMinimum int           `json:"password_minimum"`
}

func loadConfig(path string) (*Config, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var cfg Config
	if err := json.NewDecoder(file).Decode(&cfg); err != nil {
		return nil, err
	}
	cfg.DatabaseURL = os.Getenv("DATABASE_URL")
	return &cfg, nil
}

func healthHandler(w http.ResponseWriter, r *http.Request) {
	token := r.Header.Get("X-Health-Token")
	password := r.FormValue("password")
	if token == "" || password == "" {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func main() {
	cfg, err := loadConfig("config/production.json")
	if err != nil {
		log.Fatalf("cannot load configuration: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ReadTimeout)
	defer cancel()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", healthHandler)
	server := &http.Server{Addr: cfg.ListenAddress, Handler: mux}
	go func() { <-ctx.Done() }()
	log.Fatal(server.ListenAndServe())
}
