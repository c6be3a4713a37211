// Package conf reads Karbor-style INI configuration files (provider .conf
// files): repeated keys, ${VAR} and ${VAR:-default} expansion from the
// environment, and errors that name the file, section and key.
package conf
