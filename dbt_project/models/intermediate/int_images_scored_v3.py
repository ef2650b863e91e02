"""Scoring version v3 (a Python dbt model): a linear model learned by `main-image train-scoring`.

Its coefficients are the dbt seed `scoring_v3_coefficients` (one row per artifact version and
term, written by the training command, reviewed and committed like code). The scoring version's
name carries the artifact version (`v3-m1` applies artifact `m1`): retraining adds a new version
beside the old one, so switching and rolling back are configuration.

One row per candidate image of the hotels in scope, for every v3 version the run scores with
(active or shadow; int_scoring_versions_in_run), with the score and its terms (each feature's
contribution, as JSON). No row when the run does not use v3. The model is linear in s_fresh with
one coefficient for every image, so v2's "hotels affected by the run date" rule holds for it.
"""

import json

import polars as pl

MODEL_NAME = "int_images_scored_v3"
SCHEMA = {
    "image_id": pl.Int64,
    "scoring_version": pl.Utf8,
    "score": pl.Float64,
    "score_terms": pl.Utf8,
}


def score(features: pl.DataFrame, coefficients: pl.DataFrame, version: str) -> pl.DataFrame:
    """Intercept plus the sum of coefficient * feature; the terms are the contributions."""
    weights = dict(zip(coefficients["term"], coefficients["coefficient"], strict=True))
    intercept = weights.pop("intercept", 0.0)
    missing = [term for term in weights if term not in features.columns]
    if missing:
        raise ValueError(f"{version}: the artifact needs features {missing} the warehouse lacks")
    contributions = {
        term: pl.col(term).cast(pl.Float64) * weight for term, weight in weights.items()
    }
    scored = features.select(
        pl.col("image_id").cast(pl.Int64),
        *(expression.alias(term) for term, expression in contributions.items()),
    )
    terms = list(weights)
    return scored.select(
        "image_id",
        pl.lit(version).alias("scoring_version"),
        (pl.sum_horizontal(terms) + intercept).alias("score") if terms else pl.lit(intercept),
        pl.struct(terms)
        .map_elements(
            lambda row: json.dumps({key: round(value, 12) for key, value in row.items()}),
            return_dtype=pl.Utf8,
        )
        .alias("score_terms"),
    )


def to_polars(relation) -> pl.DataFrame:
    """dbt.ref() as polars: a DuckDB relation (dbt-duckdb), a BigQuery DataFrames frame
    (submission_method bigframes) or a Spark frame (Dataproc)."""
    if hasattr(relation, "pl"):
        return relation.pl()
    if hasattr(relation, "toPandas"):
        return pl.from_pandas(relation.toPandas())
    return pl.from_pandas(relation.to_pandas())


def model(dbt, session):
    dbt.config(materialized="table")
    versions = to_polars(dbt.ref("int_scoring_versions_in_run"))
    coefficients = to_polars(dbt.ref("scoring_v3_coefficients"))
    features = to_polars(dbt.ref("int_image_score_features"))
    result = score_versions(versions, coefficients, features)
    # dbt-duckdb takes polars; dbt-bigquery's submission methods take pandas
    return result if hasattr(dbt.ref("int_scoring_versions_in_run"), "pl") else result.to_pandas()


def score_versions(
    versions: pl.DataFrame, coefficients: pl.DataFrame, features: pl.DataFrame
) -> pl.DataFrame:
    frames = []
    for row in versions.filter(pl.col("python_model") == MODEL_NAME).iter_rows(named=True):
        artifact = coefficients.filter(pl.col("model_version") == row["artifact_version"])
        if artifact.is_empty():
            raise ValueError(
                f"{row['scoring_version']}: no artifact {row['artifact_version']!r} in "
                "seeds/scoring_v3_coefficients.csv (run main-image train-scoring)"
            )
        frames.append(score(features, artifact, row["scoring_version"]))
    if not frames:
        return pl.DataFrame(schema=SCHEMA)
    return pl.concat(frames).cast(SCHEMA)
