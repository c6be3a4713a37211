// Package project is the protection plugin of OS::Keystone::Project, the
// root of a tenant's application: protect saves the project's name and
// description, restore maps the project to the one the restore acts in (so
// that the other plugins' restored resources belong to it), delete removes
// the saved data.
//
// Bank objects, under /checkpoints/<cp>/resource-data/<project id>/:
//
//	status    protecting, then available (or error); deleted
//	metadata  {"project_id", "name", "description", "domain_id"}
package project
