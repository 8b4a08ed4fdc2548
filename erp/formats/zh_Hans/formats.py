# Django's zh_Hans formats group numbers by nothing (THOUSAND_SEPARATOR = ""); business software
# in China writes quantities and money with comma thousands (1,716.20), so the pages do too.
# Everything not set here falls back to Django's zh_Hans formats.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
