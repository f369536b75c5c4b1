// Peyvand behaviour (no inline scripts: CSP)
