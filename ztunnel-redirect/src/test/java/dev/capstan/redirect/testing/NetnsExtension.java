package dev.capstan.redirect.testing;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A fresh {@link Netns} per test, deleted after it whatever happened; tests that take one are
 * root-only and skip loudly otherwise (see {@link Root}).
 */
public final class NetnsExtension implements BeforeEachCallback, AfterEachCallback, ParameterResolver {

  private static final ExtensionContext.Namespace STORE = ExtensionContext.Namespace.create(NetnsExtension.class);

  @Override
  public void beforeEach(ExtensionContext context) {
    Root.require(context.getRequiredTestClass().getSimpleName() + "." + context.getDisplayName());
    context.getStore(STORE).put("netns", new Netns());
  }

  @Override
  public void afterEach(ExtensionContext context) {
    Netns netns = context.getStore(STORE).remove("netns", Netns.class);
    if (netns != null) {
      netns.close();
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == Netns.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return context.getStore(STORE).get("netns", Netns.class);
  }
}
