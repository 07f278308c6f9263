# Reference results from the R package mclust, against which emlib's MAP-EM is tested.
#
# Run from the repository root (needs R with the packages mclust and jsonlite; on Debian:
# apt-get install r-cran-mclust r-cran-jsonlite):
#     Rscript scripts/mclust_reference.R
# It writes tests/data/mclust_iris.json. The data are R's own iris measurements, written
# into the file, so that the test does not depend on another copy of iris.
#
# Contents:
#   * "em": for mclust's models VVV, EEE, VVI and VII (emlib's full, tied, diag and
#     spherical), EM with mclust's default conjugate prior (priorControl(), hyper-parameters
#     from defaultPrior for G = 3) started from the species labels, until the
#     log-likelihood stops changing (at most 1000 iterations); and maximum likelihood for
#     VVV from the same start. Each entry holds the hyper-parameters, the final parameters,
#     mclust's log-likelihood and the number of iterations.
#   * "bic": mclust's BIC table (its sign: 2 log L - P log N, larger is better) for G = 1..9
#     and the four models, with and without the prior, and the model Mclust() chooses among
#     all fourteen.
suppressPackageStartupMessages({
  library(mclust)
  library(jsonlite)
})

X <- unname(as.matrix(iris[, 1:4]))
species <- as.integer(iris$Species) - 1L
z <- unmap(species)
# tol = 0: run a fixed number of iterations, so that both programs reach the fixed point
# to rounding level rather than stopping at different distances from it.
tight <- emControl(tol = c(0, 0), itmax = c(1000L, 1000L))
models <- c(VVV = "full", EEE = "tied", VVI = "diag", VII = "spherical")

covariances <- function(fit) {
  sigma <- fit$parameters$variance$sigma
  lapply(seq_len(dim(sigma)[3]), function(k) unname(sigma[, , k]))
}

run <- function(model, with_prior) {
  prior <- if (with_prior) priorControl() else NULL
  fit <- me(data = X, modelName = model, z = z, prior = prior, control = tight)
  entry <- list(
    model = model,
    covariance_type = unname(models[model]),
    prior = NULL,
    loglik = fit$loglik,
    iterations = unname(attr(fit, "info")[1]),
    weights = unname(fit$parameters$pro),
    means = unname(t(fit$parameters$mean)),
    covariances = covariances(fit)
  )
  if (with_prior) {
    hyper <- defaultPrior(X, 3, model)
    entry$prior <- list(
      shrinkage = hyper$shrinkage,
      mean = unname(hyper$mean),
      degrees_of_freedom = hyper$dof,
      scale = unname(hyper$scale)
    )
  }
  entry
}

em <- c(lapply(names(models), run, with_prior = TRUE), list(run("VVV", FALSE)))

bic_table <- function(prior) {
  table <- mclustBIC(X, G = 1:9, modelNames = names(models), prior = prior,
                     verbose = FALSE)
  lapply(setNames(names(models), names(models)), function(m) unname(table[, m]))
}
chosen <- Mclust(X, verbose = FALSE)

result <- list(
  mclust_version = as.character(packageVersion("mclust")),
  data = X,
  species = species,
  em = em,
  bic = list(
    G = 1:9,
    maximum_likelihood = bic_table(NULL),
    conjugate_prior = suppressWarnings(bic_table(priorControl())),
    mclust_choice = list(model = chosen$modelName, G = chosen$G,
                         loglik = chosen$loglik, bic = chosen$bic)
  )
)
write_json(result, "tests/data/mclust_iris.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, null = "null")
