SELECT symbol, rate FROM vat_rates
