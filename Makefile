# Thin wrappers: the real work is in dev.py so that machines without make behave the same.
.PHONY: run test setup translations assets

run:
	python3 dev.py run

test:
	python3 dev.py test

setup:
	python3 dev.py setup

# Re-extract messages after changing user-facing text, then translate the new zh_Hant entries.
translations: setup
	.venv/bin/pybabel extract -F babel.cfg -k lazy_gettext -k _ --no-location --sort-output \
		--ignore-dirs ".* node_modules __pycache__" \
		-o frontend/translations/messages.pot .
	.venv/bin/pybabel update -i frontend/translations/messages.pot -d frontend/translations \
		--no-fuzzy-matching --ignore-obsolete --width 100
	.venv/bin/python frontend/translations/make_zh_hans.py

# Rebuild frontend/static from the npm packages (only needed after changing styles).
assets:
	cd frontend/assets-src && npm ci && npm run build
